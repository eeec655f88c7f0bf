"""The protocol's small pieces on their own: references, challenges, credentials,
platforms, Retry-After, Nix base-32 and the base-image config merge."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from ndx.stdlib.registry import (
    BadReferenceError,
    Platform,
    PlatformError,
    merge_container_config,
    merge_env,
    merge_image_config,
    parse_reference,
)
from ndx.stdlib.registry.auth import parse_challenge
from ndx.stdlib.registry.credentials import Credentials, lookup_credentials, redact
from ndx.stdlib.registry.digest import nix32
from ndx.stdlib.registry.platform import select_manifest
from ndx.stdlib.registry.transport import retry_after_seconds


@pytest.mark.parametrize("text, registry, repository, tag, digest", [
    ("redis", "docker.io", "library/redis", "latest", None),
    ("redis:7.2", "docker.io", "library/redis", "7.2", None),
    ("bitnami/redis", "docker.io", "bitnami/redis", "latest", None),
    ("docker.io/redis", "docker.io", "library/redis", "latest", None),
    ("index.docker.io/library/redis:6", "docker.io", "library/redis", "6", None),
    ("quay.io/org/app:v1", "quay.io", "org/app", "v1", None),
    ("localhost/app", "localhost", "app", "latest", None),
    ("127.0.0.1:5000/a/b:c", "127.0.0.1:5000", "a/b", "c", None),
    ("docker://127.0.0.1:5000/a", "127.0.0.1:5000", "a", "latest", None),
    ("redis@sha256:" + "a" * 64, "docker.io", "library/redis", None, "sha256:" + "a" * 64),
])
def test_references_normalize_like_docker(text: str, registry: str, repository: str,
                                          tag: str | None, digest: str | None) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository,
                                                                   tag, digest)


def test_docker_hub_api_host_and_familiar_name() -> None:
    ref = parse_reference("redis:7")
    assert ref.api_host == "registry-1.docker.io"
    assert ref.familiar() == "redis:7"
    assert parse_reference("127.0.0.1:5000/x").api_host == "127.0.0.1:5000"


@pytest.mark.parametrize("text, fragment", [
    ("Redis", "lower case"), ("redis:", "invalid tag"), ("redis@sha256:xyz", "invalid digest"),
    ("", "empty"), ("a//b", "invalid repository"),
])
def test_bad_references_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(BadReferenceError) as err:
        parse_reference(text)
    assert fragment in str(err.value)


def test_bearer_challenge_parameters() -> None:
    c = parse_challenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'
                        ',scope="repository:library/redis:pull",error="insufficient_scope"')
    assert c is not None and c.scheme == "bearer"
    assert c.params == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                        "scope": "repository:library/redis:pull", "error": "insufficient_scope"}
    basic = parse_challenge('Basic realm="ndx test"')
    assert basic is not None and basic.scheme == "basic" and basic.params["realm"] == "ndx test"


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_credentials_from_docker_config_and_registry_auth_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docker = tmp_path / "home" / ".docker"
    docker.mkdir(parents=True)
    (docker / "config.json").write_text(json.dumps({"auths": {
        "https://index.docker.io/v1/": {"auth": _auth("hubuser", "hubpass")},
        "registry.example:5000": {"username": "u", "password": "p1234"}}}))
    hub = lookup_credentials("docker.io")
    assert hub is not None and (hub.username, hub.password) == ("hubuser", "hubpass")
    assert lookup_credentials("registry.example:5000").password == "p1234"  # type: ignore[union-attr]
    assert lookup_credentials("other.example") is None
    # REGISTRY_AUTH_FILE is consulted first.
    override = tmp_path / "auth.json"
    override.write_text(json.dumps({"auths": {"registry.example:5000": {
        "auth": _auth("podman", "secret-two")}}}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(override))
    creds = lookup_credentials("registry.example:5000")
    assert creds is not None and creds.username == "podman"
    assert str(override) in creds.source


def test_credential_helper_is_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-ndxtest"
    helper.write_text('#!/bin/sh\nread host\n'
                      'echo "{\\"ServerURL\\":\\"$host\\",\\"Username\\":\\"helped\\",'
                      '\\"Secret\\":\\"from-helper-$host\\"}"\n')
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    docker = tmp_path / "home" / ".docker"
    docker.mkdir(parents=True)
    (docker / "config.json").write_text(json.dumps({"credHelpers": {"reg.test": "ndxtest"}}))
    creds = lookup_credentials("reg.test")
    assert creds is not None and creds.username == "helped"
    assert creds.password == "from-helper-reg.test"


def test_secrets_are_redacted_and_hidden_from_repr() -> None:
    creds = Credentials("bob", "hunter2-very-secret", "", "test")
    assert "hunter2" not in repr(creds)
    assert redact("failed with hunter2-very-secret and " + creds.basic_value()) == \
        "failed with *** and ***"


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None


def test_nix32_matches_nix_hash() -> None:
    import hashlib

    raw = hashlib.sha256(b"ndx").digest()
    expected = subprocess.run(["nix-hash", "--type", "sha256", "--to-base32", raw.hex()],
                              capture_output=True, text=True, check=True).stdout.strip()
    assert nix32(raw) == expected


INDEX = [
    {"digest": "sha256:1", "platform": {"os": "linux", "architecture": "amd64"}},
    {"digest": "sha256:2", "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}},
    {"digest": "sha256:3", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
    {"digest": "sha256:4", "platform": {"os": "linux", "architecture": "arm64",
                                        "variant": "v8"}},
    {"digest": "sha256:5", "platform": {"os": "unknown", "architecture": "unknown"}},
]


def test_platform_selection_with_variants() -> None:
    assert select_manifest(INDEX, Platform("linux", "amd64"), "x")["digest"] == "sha256:1"
    assert select_manifest(INDEX, Platform("linux", "arm", "v6"), "x")["digest"] == "sha256:2"
    assert select_manifest(INDEX, Platform("linux", "arm"), "x")["digest"] == "sha256:2"
    assert select_manifest(INDEX, Platform("linux", "arm64"), "x")["digest"] == "sha256:4"
    assert select_manifest(INDEX, Platform.parse("linux/aarch64/v8"), "x")["digest"] == \
        "sha256:4"


def test_absent_platform_lists_the_available_ones() -> None:
    with pytest.raises(PlatformError) as err:
        select_manifest(INDEX, Platform("linux", "s390x"), "redis:7")
    message = str(err.value)
    assert "no image for platform linux/s390x" in message
    assert "linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8" in message
    assert "unknown" not in message.split("available:")[1].split("(")[0]


def test_env_merges_by_key_in_place() -> None:
    assert merge_env(["PATH=/usr/bin:/bin", "LANG=C.UTF-8"], ["PATH=/ndx/bin", "REDIS=1"]) == [
        "PATH=/ndx/bin", "LANG=C.UTF-8", "REDIS=1"]


def test_container_config_merges_like_docker_build() -> None:
    base = {"Env": ["PATH=/bin", "A=1"], "Cmd": ["bash"], "Entrypoint": ["/init"],
            "ExposedPorts": {"80/tcp": {}}, "Labels": {"a": "base", "b": "base"},
            "Volumes": {"/data": {}}, "WorkingDir": "/", "User": "root"}
    merged = merge_container_config(base, {"Env": ["A=2"], "Cmd": ["redis-server"],
                                           "ExposedPorts": {"6379/tcp": {}},
                                           "Labels": {"b": "ours"}, "User": "redis"})
    assert merged == {"Env": ["PATH=/bin", "A=2"], "Cmd": ["redis-server"],
                      "Entrypoint": ["/init"], "ExposedPorts": {"80/tcp": {}, "6379/tcp": {}},
                      "Labels": {"a": "base", "b": "ours"}, "Volumes": {"/data": {}},
                      "WorkingDir": "/", "User": "redis"}
    # An Entrypoint of ours without a Cmd clears the base's Cmd.
    assert merge_container_config(base, {"Entrypoint": ["/ndx/bin/redis"]}).get("Cmd") is None
    assert base["Env"] == ["PATH=/bin", "A=1"]  # the base is not modified


def test_image_config_keeps_base_layers_and_history_first() -> None:
    base = {"architecture": "amd64", "os": "linux", "created": "2020-01-01T00:00:00Z",
            "config": {"Cmd": ["bash"]},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]},
            "history": [{"created_by": "debootstrap"}]}
    merged = merge_image_config(base, {"Cmd": ["redis-server"]},
                                diff_ids=["sha256:" + "2" * 64],
                                history=[{"created_by": "ndx buildImage"}],
                                created="1970-01-01T00:00:01Z")
    assert merged["rootfs"]["diff_ids"] == ["sha256:" + "1" * 64, "sha256:" + "2" * 64]
    assert [h["created_by"] for h in merged["history"]] == ["debootstrap", "ndx buildImage"]
    assert merged["config"] == {"Cmd": ["redis-server"]}
    assert (merged["architecture"], merged["os"], merged["created"]) == (
        "amd64", "linux", "1970-01-01T00:00:01Z")


def test_progress_bar_draws_only_on_a_terminal() -> None:
    import io

    from ndx.stdlib.registry.progress import Progress

    quiet = io.StringIO()
    p = Progress("abc123", 2048, stream=quiet)  # a StringIO is not a terminal
    p.advance(1024)
    p.finish()
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    p = Progress("abc123", 2048, stream=shown, enabled=True)
    p.advance(1024)
    p.finish("pushed")
    text = shown.getvalue()
    assert "abc123 [###############               ] 1.0 KiB/2.0 KiB  50%" in text
    assert text.endswith("abc123 pushed (1.0 KiB)\x1b[K\n")
