"""docker-archive and OCI layout: what we write reads back, byte-stable, and real clients
(skopeo, umoci) accept it."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from ndx.stdlib.image.archive import (
    OCI_LAYER_GZIP,
    BlobFiles,
    Image,
    ImageArchive,
    Layer,
    canonical_json,
    chain_ids,
    normalize_repo_tag,
    sha256_digest,
    write_docker_archive,
    write_oci_archive,
    write_oci_layout,
)
from ndx.stdlib.image.errors import ArchiveError


def _layer_blob(tmp_path, files: dict[str, bytes]) -> tuple[Layer, str]:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1, 0o644
            tar.addfile(info, io.BytesIO(data))
    plain = raw.getvalue()
    blob = gzip.compress(plain, mtime=0)
    path = tmp_path / ("blob-" + sha256_digest(blob)[7:])
    path.write_bytes(blob)
    return Layer(sha256_digest(plain), sha256_digest(blob), len(blob), OCI_LAYER_GZIP), str(path)


def _image(tmp_path, tags=("hello:1.0",)) -> tuple[Image, BlobFiles]:
    blobs = BlobFiles()
    layers = []
    for files in ({"etc/a": b"first\n"}, {"etc/b": b"second\n"}):
        layer, path = _layer_blob(tmp_path, files)
        blobs.add(layer.digest, path)
        layers.append(layer)
    config = canonical_json({
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:01Z",
        "config": {"Cmd": ["/bin/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [la.diff_id for la in layers]}})
    return Image(config, tuple(layers), tuple(tags)), blobs


def test_docker_archive_round_trip_and_is_deterministic(tmp_path) -> None:
    image, blobs = _image(tmp_path)
    out1, out2 = tmp_path / "a.tar", tmp_path / "b.tar"
    for out in (out1, out2):
        with open(out, "wb") as f:
            write_docker_archive(f, [image], blobs, oci=True)
    assert out1.read_bytes() == out2.read_bytes()
    with tarfile.open(out1) as tar:
        names = tar.getnames()
        assert all(m.mtime == 1 and m.uid == 0 and m.gid == 0 for m in tar)
        manifest = json.load(tar.extractfile("manifest.json"))
        repositories = json.load(tar.extractfile("repositories"))
    assert {"manifest.json", "repositories", "index.json", "oci-layout"} <= set(names)
    assert manifest == [{"Config": "blobs/sha256/" + image.config_digest[7:],
                         "RepoTags": ["hello:1.0"],
                         "Layers": ["blobs/sha256/" + la.digest[7:] for la in image.layers]}]
    top = chain_ids([la.diff_id for la in image.layers])[-1]
    assert repositories == {"hello": {"1.0": top[7:]}}
    with ImageArchive(str(out1)) as archive:
        assert archive.format == "docker-archive"
        (read,) = archive.images()
        assert read == image
        with archive.open_layer(read.layers[1]) as stream, \
                tarfile.open(fileobj=stream, mode="r|") as tar:
            assert [(m.name, tar.extractfile(m).read()) for m in tar] == [("etc/b", b"second\n")]


def test_oci_layout_round_trip(tmp_path) -> None:
    image, blobs = _image(tmp_path)
    layout = tmp_path / "layout"
    write_oci_layout(str(layout), [image], blobs)
    with ImageArchive(str(layout)) as archive:
        assert archive.format == "oci"
        (read,) = archive.images()
        assert read.config == image.config and read.layers == image.layers
        assert read.repo_tags == ("docker.io/library/hello:1.0",)
        assert archive.image("hello:1.0") is not None
    with open(tmp_path / "oci.tar", "wb") as f:
        write_oci_archive(f, [image], blobs)
    with ImageArchive(str(tmp_path / "oci.tar")) as archive:
        assert archive.format == "oci" and archive.images()[0].layers == image.layers


def test_compressed_archive_as_nix_writes_it_is_read(tmp_path) -> None:
    image, blobs = _image(tmp_path)
    buffer = io.BytesIO()
    write_docker_archive(buffer, [image], blobs)
    (tmp_path / "img.tar.gz").write_bytes(gzip.compress(buffer.getvalue()))
    with ImageArchive(str(tmp_path / "img.tar.gz")) as archive:
        assert archive.images() == [image]


def test_legacy_docker_archive_with_uncompressed_layer_tar(tmp_path) -> None:
    """`docker save` before Docker 25: `<id>/layer.tar`, uncompressed, possibly a symlink."""
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as tar:
        info = tarfile.TarInfo("x")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"x\n"))
    layer_bytes = plain.getvalue()
    diff_id = sha256_digest(layer_bytes)
    config = canonical_json({"rootfs": {"type": "layers", "diff_ids": [diff_id, diff_id]},
                             "os": "linux", "architecture": "amd64"})
    archive_path = tmp_path / "legacy.tar"
    with tarfile.open(archive_path, "w") as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("abc/layer.tar", layer_bytes)
        link = tarfile.TarInfo("def/layer.tar")
        link.type, link.linkname = tarfile.SYMTYPE, "../abc/layer.tar"
        tar.addfile(link)
        add("cfg.json", config)
        add("manifest.json", json.dumps([{"Config": "cfg.json", "RepoTags": ["old:1"],
                                          "Layers": ["abc/layer.tar", "def/layer.tar"]}]).encode())
    with ImageArchive(str(archive_path)) as archive:
        (read,) = archive.images()
        assert [la.digest for la in read.layers] == [diff_id, diff_id]
        assert read.layers[0].compression is None
        with archive.open_layer(read.layers[1]) as f:
            assert f.read() == layer_bytes


def test_corrupt_blob_is_refused_when_written(tmp_path) -> None:
    image, blobs = _image(tmp_path)
    path = Path(blobs.files[image.layers[0].digest])
    data = bytearray(path.read_bytes())
    data[-9] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="does not match its digest"):
        write_docker_archive(io.BytesIO(), [image], blobs)


def test_names_are_checked() -> None:
    assert normalize_repo_tag("redis") == "redis:latest"
    assert normalize_repo_tag("localhost:5000/app:v1") == "localhost:5000/app:v1"
    assert normalize_repo_tag("redis", "2.8.23") == "redis:2.8.23"
    with pytest.raises(ArchiveError, match="invalid image name"):
        normalize_repo_tag("Redis")
    with pytest.raises(ArchiveError, match="invalid image tag"):
        normalize_repo_tag("redis", "-x")


def test_not_an_archive(tmp_path) -> None:
    (tmp_path / "x").write_text("hello")
    with pytest.raises(ArchiveError):
        ImageArchive(str(tmp_path / "x"))
    with pytest.raises(ArchiveError, match="no such image archive"):
        ImageArchive(str(tmp_path / "missing"))


def test_skopeo_and_umoci_read_what_we_write(tmp_path) -> None:
    image, blobs = _image(tmp_path)
    with open(tmp_path / "img.tar", "wb") as f:
        write_docker_archive(f, [image], blobs, oci=True)
    out = subprocess.run(["skopeo", "inspect", f"docker-archive:{tmp_path}/img.tar"],
                         check=True, capture_output=True, text=True).stdout
    info = json.loads(out)
    # docker-archive sources describe layers by diff ID, OCI ones by blob digest.
    assert info["Layers"] == [la.diff_id for la in image.layers]
    assert info["Architecture"] == "amd64"
    out = subprocess.run(["skopeo", "inspect", f"oci-archive:{tmp_path}/img.tar"],
                         check=True, capture_output=True, text=True).stdout
    assert json.loads(out)["Layers"] == [la.digest for la in image.layers]
    layout = tmp_path / "layout"
    write_oci_layout(str(layout), [image], blobs)
    env = dict(os.environ)
    stat = subprocess.run(["umoci", "stat", "--image", f"{layout}:1.0"], check=True,
                          capture_output=True, text=True, env=env).stdout
    assert "LAYER" in stat or "layer" in stat.lower()
