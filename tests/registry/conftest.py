"""Fixtures of the registry tests: real registries (plain HTTP, token auth, htpasswd,
TLS), a token server, a fault-injecting proxy, base images pushed by skopeo, and an
isolated environment (no user auth files, a private cache) for every test."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .images import busybox_rootfs, debian_layout, skopeo_copy, umoci_image
from .pki import ServerTLS, TokenSigner, make_server_tls
from .servers import (
    FaultProxy,
    Registry,
    TokenServer,
    start_registry,
    wait_for_https,
    write_htpasswd,
)

USER, PASSWORD = "alice", "correct-horse-battery-staple"
TOKEN_SERVICE = "ndx-test-registry"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's auth files or cache."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "home" / ".docker"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("NDX_CACHE_DIR", str(tmp_path / "ndx-cache"))


def write_auth_file(path: Path, host: str, user: str, password: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return path


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A plain-HTTP registry, no authentication."""
    reg = start_registry(tmp_path_factory.mktemp("registry-plain"))
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    signer = TokenSigner(tmp_path_factory.mktemp("token-pki"), "ndx-test-issuer")
    server = TokenServer(signer, TOKEN_SERVICE, {USER: PASSWORD}).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory,
                   token_server: TokenServer) -> Iterator[Registry]:
    """A registry behind bearer-token authentication (our token server)."""
    reg = start_registry(tmp_path_factory.mktemp("registry-token"), auth={"token": {
        "realm": token_server.realm, "service": TOKEN_SERVICE,
        "issuer": token_server.signer.issuer,
        "rootcertbundle": str(token_server.signer.bundle)}})
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def htpasswd_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry behind HTTP Basic authentication (bcrypt htpasswd)."""
    directory = tmp_path_factory.mktemp("registry-htpasswd")
    write_htpasswd(directory / "htpasswd", {USER: PASSWORD})
    reg = start_registry(directory, auth={"htpasswd": {"realm": "ndx-test",
                                                       "path": str(directory / "htpasswd")}})
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def server_tls(tmp_path_factory: pytest.TempPathFactory) -> ServerTLS:
    return make_server_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory: pytest.TempPathFactory,
                 server_tls: ServerTLS) -> Iterator[Registry]:
    """A registry serving HTTPS with a certificate from a private CA."""
    reg = start_registry(tmp_path_factory.mktemp("registry-tls"), tls=server_tls)
    wait_for_https(reg.host, server_tls.ca_cert)
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def fault_proxy(registry: Registry) -> Iterator[FaultProxy]:
    proxy = FaultProxy(registry.port)
    yield proxy
    proxy.stop()


@pytest.fixture
def faults(fault_proxy: FaultProxy) -> Iterator[FaultProxy]:
    """The fault proxy, its faults cleared after the test."""
    fault_proxy.clear()
    yield fault_proxy
    fault_proxy.clear()


@pytest.fixture(scope="session")
def busybox_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("busybox")
    root = busybox_rootfs(work)
    layout = work / "layout"
    umoci_image(root, layout, "latest")
    umoci_image(root, layout, "arm64", arch="arm64")
    return layout


@pytest.fixture(scope="session")
def busybox_on_registry(registry: Registry, busybox_layout: Path) -> str:
    """`HOST/test/busybox:latest`, pushed by skopeo (gzip layers, OCI manifest)."""
    ref = f"{registry.host}/test/busybox:latest"
    skopeo_copy(f"oci:{busybox_layout}:latest", f"docker://{ref}", "--dest-tls-verify=false")
    return ref


@pytest.fixture(scope="session")
def debian_on_registry(registry: Registry) -> str:
    """`HOST/library/debian:bookworm`: the debootstrap-made Debian base (cached under
    .cache/registry-tests), pushed by skopeo (gzip layers, OCI manifest)."""
    ref = f"{registry.host}/library/debian:bookworm"
    skopeo_copy(f"oci:{debian_layout()}:bookworm", f"docker://{ref}", "--dest-tls-verify=false")
    return ref
