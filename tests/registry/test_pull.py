"""pullImage against a real registry: digests agree with skopeo, the archive is a
deterministic function of the content, platforms are chosen from an index, and every
missing thing or TLS problem is a clear error."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from ndx.stdlib.registry import (
    ClientOptions,
    NotFoundError,
    Platform,
    PlatformError,
    RegistryClient,
    TLSError,
    copy_image,
    pull_image,
)
from ndx.stdlib.registry.mediatypes import OCI_INDEX

from .images import run, skopeo_copy
from .pki import ServerTLS
from .servers import Registry

INSECURE = ClientOptions(insecure=True)


def archive_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def skopeo_inspect(transport_ref: str, *extra: str) -> dict[str, object]:
    return json.loads(run("skopeo", "inspect", *extra, transport_ref))


def test_pulled_archive_is_what_skopeo_sees(busybox_on_registry: str, tmp_path: Path) -> None:
    result = pull_image(busybox_on_registry, None, tmp_path / "bb.tar", options=INSECURE)
    # skopeo reads our archive, and its layers are those skopeo copies from the registry.
    ours = skopeo_inspect(f"docker-archive:{result.path}")
    skopeo_copy(f"docker://{busybox_on_registry}", f"docker-archive:{tmp_path}/sk.tar",
                "--src-tls-verify=false")
    theirs = skopeo_inspect(f"docker-archive:{tmp_path}/sk.tar")
    assert ours["Layers"] == theirs["Layers"]
    assert ours["Digest"] == theirs["Digest"]
    members = archive_members(result.path)
    manifest = json.loads(members["manifest.json"])
    assert manifest[0]["RepoTags"] == [busybox_on_registry]
    config = members[manifest[0]["Config"]]
    assert "sha256:" + hashlib.sha256(config).hexdigest() == result.config_digest
    # The pinned digest is the one the registry reports for the tag.
    remote = skopeo_inspect(f"docker://{busybox_on_registry}", "--tls-verify=false")
    assert remote["Digest"] == result.image_digest


def test_archive_is_deterministic_and_independent_of_layer_compression(
        registry: Registry, busybox_layout: Path, tmp_path: Path) -> None:
    gz = f"{registry.host}/det/gzip:v1"
    zst = f"{registry.host}/det/zstd:v1"
    plain = tmp_path / "plain-dir"
    skopeo_copy(f"oci:{busybox_layout}:latest", f"dir:{plain}", "--dest-decompress")
    skopeo_copy(f"dir:{plain}", f"docker://{gz}", "--dest-tls-verify=false")
    # skopeo pushing to this registry would reuse the gzip blob it knows: it writes a zstd
    # layout, and ndx copies that as it is.
    skopeo_copy(f"dir:{plain}", f"oci:{tmp_path}/zstd-layout:v1", "--dest-compress-format",
                "zstd")
    copy_image(f"oci-layout:{tmp_path}/zstd-layout:v1", f"docker://{zst}", options=INSECURE)
    client = RegistryClient(registry.host, INSECURE)
    layer_type = client.get_manifest("det/zstd", "v1").json()["layers"][0]["mediaType"]
    assert layer_type.endswith("zstd")
    a = pull_image(gz, None, tmp_path / "a.tar", final_image_name="det", options=INSECURE)
    b = pull_image(gz, a.image_digest, tmp_path / "b.tar", final_image_name="det",
                   options=INSECURE)
    c = pull_image(zst, None, tmp_path / "c.tar", final_image_name="det", options=INSECURE)
    assert a.sha256 == b.sha256 == c.sha256
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "c.tar").read_bytes()
    assert a.image_digest != c.image_digest


def test_platform_is_chosen_from_an_index(registry: Registry, busybox_layout: Path,
                                          tmp_path: Path) -> None:
    repo = "multi/busybox"
    for tag in ("latest", "arm64"):
        skopeo_copy(f"oci:{busybox_layout}:{tag}", f"docker://{registry.host}/{repo}:{tag}",
                    "--dest-tls-verify=false")
    client = RegistryClient(registry.host, INSECURE)
    entries = []
    for tag, arch in (("latest", "amd64"), ("arm64", "arm64")):
        m = client.get_manifest(repo, tag)
        entries.append({"mediaType": m.media_type, "digest": m.digest, "size": len(m.data),
                        "platform": {"os": "linux", "architecture": arch}})
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                        "manifests": entries}).encode()
    index_digest = client.put_manifest(repo, "multi", index, OCI_INDEX)
    ref = f"{registry.host}/{repo}:multi"
    arm = pull_image(ref, index_digest, tmp_path / "arm.tar",
                     platform=Platform("linux", "arm64"), options=INSECURE)
    amd = pull_image(ref, index_digest, tmp_path / "amd.tar",
                     platform=Platform("linux", "amd64"), options=INSECURE)
    assert arm.image_digest == amd.image_digest == index_digest
    assert arm.manifest_digest == entries[1]["digest"]
    assert amd.manifest_digest == entries[0]["digest"]
    assert skopeo_inspect(f"docker-archive:{arm.path}")["Architecture"] == "arm64"
    with pytest.raises(PlatformError) as err:
        pull_image(ref, index_digest, tmp_path / "s390x.tar",
                   platform=Platform("linux", "s390x"), options=INSECURE)
    assert "available: linux/amd64, linux/arm64" in str(err.value)
    assert not (tmp_path / "s390x.tar").exists()


def test_missing_repository_tag_and_blob(registry: Registry, busybox_on_registry: str,
                                         tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"repository nothing/here not found on"):
        pull_image(f"{registry.host}/nothing/here:v1", None, tmp_path / "x",
                   options=INSECURE)
    with pytest.raises(NotFoundError, match=r"tag 'nope' not found in test/busybox"):
        pull_image(busybox_on_registry.replace(":latest", ":nope"), None, tmp_path / "x",
                   options=INSECURE)
    with pytest.raises(NotFoundError, match=r"manifest sha256:0+ not found"):
        pull_image(busybox_on_registry, "sha256:" + "0" * 64, tmp_path / "x",
                   options=INSECURE)
    client = RegistryClient(registry.host, INSECURE)
    with pytest.raises(NotFoundError, match=r"blob sha256:1+ not found in test/busybox"):
        client.fetch_blob("test/busybox", "sha256:" + "1" * 64, tmp_path / "blob")
    assert not (tmp_path / "x").exists() and not (tmp_path / "blob.partial").exists()


def test_plain_http_registry_needs_to_be_asked_for(busybox_on_registry: str,
                                                   tmp_path: Path) -> None:
    with pytest.raises(TLSError) as err:
        pull_image(busybox_on_registry, None, tmp_path / "x.tar")
    host = busybox_on_registry.split("/")[0]
    assert "does not speak TLS" in str(err.value) and f"--insecure-registry {host}" in str(
        err.value)
    ok = pull_image(busybox_on_registry, None, tmp_path / "x.tar",
                    options=ClientOptions(insecure_hosts=frozenset({host})))
    assert ok.path.exists()


def test_tls_registry_trusted_through_ca_file_or_ssl_cert_file(
        tls_registry: Registry, server_tls: ServerTLS, busybox_layout: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ref = f"{tls_registry.host}/tls/busybox:v1"
    skopeo_copy(f"oci:{busybox_layout}:latest", f"docker://{ref}", "--dest-tls-verify=false")
    with pytest.raises(TLSError) as err:
        pull_image(ref, None, tmp_path / "untrusted.tar")
    assert "is not trusted" in str(err.value) and "--ca-file" in str(err.value)
    assert not (tmp_path / "untrusted.tar").exists()
    a = pull_image(ref, None, tmp_path / "a.tar",
                   options=ClientOptions(ca_file=str(server_tls.ca_cert)))
    monkeypatch.setenv("SSL_CERT_FILE", str(server_tls.ca_cert))
    b = pull_image(ref, None, tmp_path / "b.tar")
    assert a.sha256 == b.sha256


def test_debian_base_agrees_with_skopeo(registry: Registry, debian_on_registry: str,
                                        tmp_path: Path) -> None:
    """The debootstrap-made Debian image, pushed by skopeo and pulled by ndx: skopeo's
    own copy has the same layer digests, and the pulled root file system is Debian's."""
    ref = debian_on_registry
    ours = pull_image(ref, None, tmp_path / "debian.tar", options=INSECURE)
    skopeo_copy(f"docker://{ref}", f"dir:{tmp_path}/skopeo-dir", "--src-tls-verify=false")
    skopeo_manifest = json.loads((tmp_path / "skopeo-dir" / "manifest.json").read_text())
    client = RegistryClient(registry.host, INSECURE)
    registry_manifest = client.get_manifest("library/debian", ours.manifest_digest).json()
    assert [layer["digest"] for layer in skopeo_manifest["layers"]] == [
        layer["digest"] for layer in registry_manifest["layers"]]
    members = archive_members(ours.path)
    config = json.loads(members[json.loads(members["manifest.json"])[0]["Config"]])
    layer_name = json.loads(members["manifest.json"])[0]["Layers"][0]
    import io
    with tarfile.open(fileobj=io.BytesIO(members[layer_name])) as layer:
        os_release = layer.extractfile("etc/os-release") or layer.extractfile(
            "usr/lib/os-release")
        text = os_release.read().decode() if os_release else ""
    assert 'ID=debian' in text and "bookworm" in text
    assert config["rootfs"]["diff_ids"] == [
        "sha256:" + hashlib.sha256(members[layer_name]).hexdigest()]
    assert subprocess.run(["tar", "tf", str(ours.path)], capture_output=True).returncode == 0
