"""ndx push and image copy: to the real registry (skipping blobs it has, mounting across
repositories, monolithic and chunked uploads), to OCI layouts, read back by skopeo,
`docker pull` and ndx itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ndx.stdlib.registry import ClientOptions, RegistryClient, copy_image, pull_image
from tests.engines import DockerEngine

from .conftest import PASSWORD, USER, write_auth_file
from .images import run
from .servers import FaultProxy, Registry

INSECURE = ClientOptions(insecure=True)


@pytest.fixture(scope="module")
def ndx_archive(busybox_on_registry: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A docker-archive as ndx writes them (uncompressed layers), named ndx/busybox:1."""
    out = tmp_path_factory.mktemp("ndx-archive") / "result"
    pull_image(busybox_on_registry, None, out, final_image_name="ndx/busybox",
               final_image_tag="1", options=INSECURE)
    return out


def _uploads(proxy: FaultProxy) -> list[tuple[str, str]]:
    return [(m, p.split("?")[0]) for m, p, _ in proxy.log
            if m in ("PUT", "PATCH") and "/blobs/uploads/" in p]


def test_push_round_trips_through_skopeo_and_ndx(registry: Registry, ndx_archive: Path,
                                                 tmp_path: Path) -> None:
    ref = f"{registry.host}/pushed/busybox:v1"
    result = copy_image(str(ndx_archive), f"docker://{ref}", options=INSECURE)
    remote = json.loads(run("skopeo", "inspect", "--tls-verify=false", f"docker://{ref}"))
    assert remote["Digest"] == result.manifest_digest
    raw = json.loads(run("skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"))
    assert raw["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert raw["layers"][0]["mediaType"].endswith("tar.gzip")
    # skopeo copies it out; the diff IDs are those of the archive we pushed.
    run("skopeo", "copy", "--quiet", "--insecure-policy", "--src-tls-verify=false",
        f"docker://{ref}", f"docker-archive:{tmp_path}/sk.tar")
    ours = json.loads(run("skopeo", "inspect", f"docker-archive:{ndx_archive}"))
    theirs = json.loads(run("skopeo", "inspect", f"docker-archive:{tmp_path}/sk.tar"))
    assert ours["Layers"] == theirs["Layers"] and ours["Digest"] == theirs["Digest"]
    # ndx pulls it back into exactly the archive it pushed.
    back = pull_image(ref, result.manifest_digest, tmp_path / "back.tar",
                      final_image_name="ndx/busybox", final_image_tag="1", options=INSECURE)
    assert back.path.read_bytes() == ndx_archive.read_bytes()


def test_push_skips_present_blobs_and_mounts_across_repositories(
        faults: FaultProxy, ndx_archive: Path) -> None:
    first = f"docker://{faults.host}/skip/one:v1"
    copy_image(str(ndx_archive), first, options=INSECURE)
    assert len(_uploads(faults)) == 2  # config and layer
    faults.clear()
    copy_image(str(ndx_archive), first, options=INSECURE)
    assert _uploads(faults) == []  # HEAD found both
    assert [m for m, p, s in faults.log if "/blobs/" in p and m == "HEAD"] == ["HEAD", "HEAD"]
    faults.clear()
    copy_image(str(ndx_archive), f"docker://{faults.host}/skip/two:v1", options=INSECURE)
    mounts = [(p, s) for m, p, s in faults.log if m == "POST" and "mount=" in p]
    assert len(mounts) == 2 and all(s == 201 for _, s in mounts)
    assert _uploads(faults) == []


def test_chunked_upload(faults: FaultProxy, ndx_archive: Path, tmp_path: Path) -> None:
    ref = f"{faults.host}/chunked/busybox:v1"
    copy_image(str(ndx_archive), f"docker://{ref}", options=INSECURE, chunk_size=256 << 10)
    patches = [p for m, p in _uploads(faults) if m == "PATCH"]
    assert len(patches) >= 4  # ~1 MB layer in 256 KiB chunks
    pulled = pull_image(ref, None, tmp_path / "x.tar", final_image_name="ndx/busybox",
                        final_image_tag="1", options=INSECURE)
    assert pulled.path.read_bytes() == ndx_archive.read_bytes()


def test_oci_layout_destination_keeps_other_tags(ndx_archive: Path, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    copy_image(str(ndx_archive), f"oci-layout:{layout}:one")
    copy_image(str(ndx_archive), f"oci-layout:{layout}:two", compression="zstd")
    for tag, suffix in (("one", "gzip"), ("two", "zstd")):
        raw = json.loads(run("skopeo", "inspect", "--raw", f"oci:{layout}:{tag}"))
        assert raw["layers"][0]["mediaType"].endswith(suffix)
    # And back into a docker-archive identical to the original.
    copy_image(f"oci-layout:{layout}:two", f"docker-archive:{tmp_path}/back.tar:ndx/busybox:1")
    assert (tmp_path / "back.tar").read_bytes() == ndx_archive.read_bytes()


def test_push_with_token_credentials(token_registry: Registry, ndx_archive: Path,
                                     tmp_path: Path) -> None:
    auth = write_auth_file(tmp_path / "auth.json", token_registry.host, USER, PASSWORD)
    options = ClientOptions(insecure=True, auth_file=str(auth))
    result = copy_image(str(ndx_archive), f"docker://{token_registry.host}/team/app:v1",
                        options=options)
    client = RegistryClient(token_registry.host, options)
    assert client.get_manifest("team/app", "v1").digest == result.manifest_digest


def test_docker_pulls_and_runs_what_ndx_pushed(registry: Registry, ndx_archive: Path,
                                               dockerd: DockerEngine) -> None:
    ref = f"{registry.host}/pushed/for-docker:v1"
    copy_image(str(ndx_archive), f"docker://{ref}", options=INSECURE)
    dockerd.docker("pull", ref)
    assert dockerd.run(ref, "/bin/cat", "/etc/motd") == "hello from the ndx registry tests\n"
