"""The layer writer: one deterministic tar, correctly hashed and compressed, whatever the
number of threads."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile

import pytest
import zstandard

from ndx.stdlib.image.errors import ImageError
from ndx.stdlib.image.layer import CHUNK, Entry, LayerContents, write_layer


def _tree(tmp_path):
    root = tmp_path / "tree"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "tool").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(root / "bin" / "tool", 0o555)
    (root / "share").mkdir()
    # Larger than several chunks, compressible and not.
    (root / "share" / "big").write_bytes(os.urandom(CHUNK) + b"x" * (3 * CHUNK + 17))
    os.symlink("tool", root / "bin" / "alias")
    return root


def _uncompressed(data: bytes, compression) -> bytes:
    if compression == "gzip":
        return gzip.decompress(data)
    if compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    return data


@pytest.mark.parametrize("compression", ["gzip", "zstd", None])
def test_layer_is_deterministic_and_its_digests_are_right(tmp_path, compression) -> None:
    contents = LayerContents()
    contents.add_tree(str(_tree(tmp_path)), "ndx/store/abc-tool")
    entries = contents.entries()
    blobs = []
    for threads in (1, 2, 4):
        out = io.BytesIO()
        layer = write_layer(out, entries, compression=compression, threads=threads)
        blobs.append(out.getvalue())
    assert blobs[0] == blobs[1] == blobs[2]
    data = blobs[0]
    assert layer.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert layer.size == len(data)
    raw = _uncompressed(data, compression)
    assert layer.diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = {m.name: m for m in tar}
        assert list(members) == ["ndx", "ndx/store", "ndx/store/abc-tool",
                                 "ndx/store/abc-tool/bin", "ndx/store/abc-tool/bin/alias",
                                 "ndx/store/abc-tool/bin/tool", "ndx/store/abc-tool/share",
                                 "ndx/store/abc-tool/share/big"]
        assert all(m.mtime == 1 and m.uid == 0 and m.gid == 0 and m.uname == ""
                   for m in members.values())
        tool = members["ndx/store/abc-tool/bin/tool"]
        assert tool.mode == 0o555
        assert tar.extractfile(tool).read() == b"#!/bin/sh\necho hi\n"
        assert members["ndx/store/abc-tool/bin/alias"].linkname == "tool"
        big = tar.extractfile(members["ndx/store/abc-tool/share/big"]).read()
        assert len(big) == 4 * CHUNK + 17


def test_gzip_layer_is_one_member_without_timestamp(tmp_path) -> None:
    contents = LayerContents()
    contents.add_tree(str(_tree(tmp_path)), "x")
    out = io.BytesIO()
    write_layer(out, contents.entries(), compression="gzip", threads=2)
    data = out.getvalue()
    assert data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    d = __import__("zlib").decompressobj(31)
    d.decompress(data)
    assert d.eof and d.unused_data == b""  # a single gzip member


def test_owner_ordering_parents_and_whiteouts() -> None:
    contents = LayerContents()
    contents.add(Entry("var/lib/redis", "dir", 0o700, 999, 999))
    contents.add_symlink("bin/sh", "/ndx/store/x-busybox/bin/sh")
    contents.add_whiteout("etc/motd")
    contents.add(Entry("a.b", "dir", 0o755))
    out = io.BytesIO()
    layer = write_layer(out, contents.entries(), compression=None)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        members = [(m.name, m.uid, oct(m.mode)) for m in tar]
    assert [m[0] for m in members] == ["a.b", "bin", "bin/sh", "etc", "etc/.wh.motd", "var",
                                      "var/lib", "var/lib/redis"]
    assert ("var/lib/redis", 999, "0o700") in members
    assert layer.media_type == "application/vnd.oci.image.layer.v1.tar"


def test_unsupported_files_and_bad_paths_are_clear_errors(tmp_path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ImageError, match="a fifo cannot go into an image layer"):
        LayerContents().add_tree(str(tmp_path), "x")
    with pytest.raises(ImageError, match="invalid path"):
        LayerContents().add(Entry("../etc", "dir", 0o755))
    with pytest.raises(ImageError, match="unknown layer compression"):
        write_layer(io.BytesIO(), [], compression="lz4")
