"""`builtin:pullImage` in the real build engine: a fixed-output derivation whose output
is the pulled docker-archive, verified against its sha256 (a wrong hash fails and names
the right one), named after finalImageName/finalImageTag, with credentials read at build
time and found in neither the .drv file nor the store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ndx.evaluator.io import Derivation, FixedOutput
from ndx.stdlib.registry import ClientOptions, copy_image, pull_image
from ndx.stdlib.registry.builder import BUILDER, derivation_name
from ndx.stdlib.registry.digest import nix32
from ndx.stdlib.store.disk import DiskStore
from ndx.stdlib.store.errors import BuildError, HashMismatchError

from .conftest import PASSWORD, USER, write_auth_file
from .servers import Registry


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DiskStore]:
    store = DiskStore(str(tmp_path / "store"))
    yield store
    store.close()


def _pull_drv(ref: str, digest: str, sha256: bytes, *, tls_verify: bool = False) -> Derivation:
    name, tag = "busybox", "v1"
    env = {"imageName": ref, "imageDigest": digest, "finalImageName": name,
           "finalImageTag": tag, "os": "linux", "arch": "amd64",
           "tlsVerify": "1" if tls_verify else ""}
    drv_name = derivation_name(name, tag)
    return Derivation(name=drv_name, system="builtin", builder=BUILDER, args=(),
                      env={"name": drv_name, "system": "builtin", "builder": BUILDER, **env},
                      fixed=FixedOutput("sha256", sha256, False))


def _expected(ref: str, tmp_path: Path, options: ClientOptions) -> tuple[str, bytes]:
    result = pull_image(ref, None, tmp_path / "reference.tar", final_image_name="busybox",
                        final_image_tag="v1", options=options)
    return result.image_digest, bytes.fromhex(result.sha256)


def test_pull_image_derivation_builds_and_is_verified(store: DiskStore, registry: Registry,
                                                      busybox_on_registry: str,
                                                      tmp_path: Path) -> None:
    ref = busybox_on_registry.rsplit(":", 1)[0]
    digest, sha = _expected(busybox_on_registry, tmp_path, ClientOptions(insecure=True))
    inst = store.instantiate(_pull_drv(ref, digest, sha))
    out = inst.outputs["out"]
    assert out.endswith("-docker-image-busybox-v1.tar")
    store.build([inst.drv_path])
    real = Path(store.real_path(out))
    assert hashlib.sha256(real.read_bytes()).digest() == sha
    assert real.read_bytes() == (tmp_path / "reference.tar").read_bytes()


def test_wrong_hash_fails_and_prints_the_right_one(store: DiskStore, busybox_on_registry: str,
                                                   tmp_path: Path) -> None:
    ref = busybox_on_registry.rsplit(":", 1)[0]
    digest, sha = _expected(busybox_on_registry, tmp_path, ClientOptions(insecure=True))
    inst = store.instantiate(_pull_drv(ref, digest, hashlib.sha256(b"wrong").digest()))
    with pytest.raises(HashMismatchError) as err:
        store.build([inst.drv_path])
    assert nix32(sha) in str(err.value)
    assert not store.is_valid(inst.outputs["out"])


def test_credentials_are_read_at_build_time_and_kept_out(
        store: DiskStore, htpasswd_registry: Registry, busybox_layout: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    auth = write_auth_file(tmp_path / "auth.json", htpasswd_registry.host, USER, PASSWORD)
    ref = f"{htpasswd_registry.host}/private/built"
    options = ClientOptions(insecure=True, auth_file=str(auth))
    copy_image(f"oci-layout:{busybox_layout}:latest", f"docker://{ref}:v1", options=options)
    digest, sha = _expected(f"{ref}:v1", tmp_path, options)
    inst = store.instantiate(_pull_drv(ref, digest, sha))
    with pytest.raises(BuildError) as err:  # no credentials in the environment yet
        store.build([inst.drv_path])
    assert "requires authentication" in str(err.value)
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    store.build([inst.drv_path])
    for path in Path(store.real_path(inst.drv_path)).parent.iterdir():
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
