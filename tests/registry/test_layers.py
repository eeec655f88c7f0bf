"""Hostile layers: path escapes, link escapes and decompression bombs are refused, both
when a pull checks a layer and when a layer is extracted; nothing lands outside the
root and nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndx.stdlib.registry import (
    ClientOptions,
    LayerLimits,
    UnsafeLayerError,
    decompress_layer,
    extract_layer,
    pull_image,
)

from .layerfactory import gzip_bomb, gzipped, layer_tar, publish, sha256
from .servers import Registry

HOSTILE = {
    "dotdot": ([("file", "../escaped", b"x")], "climbs out of the layer root"),
    "nested-dotdot": ([("dir", "a", ""), ("file", "a/../../escaped", b"x")],
                      "climbs out of the layer root"),
    "absolute": ([("file", "/tmp/escaped", b"x")], "is an absolute path"),
    "symlink-out": ([("dir", "etc", ""), ("symlink", "etc/evil", "../../../../tmp")],
                    "points outside the layer root"),
    "hardlink-out": ([("hardlink", "passwd", "../../../etc/passwd")],
                     "climbs out of the layer root"),
    "hardlink-absolute": ([("hardlink", "passwd", "/etc/passwd")], "is an absolute path"),
    "through-symlink": ([("symlink", "up", "/tmp"), ("file", "up/escaped", b"x")],
                        "through the symlink"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_layer_is_rejected_when_checked(tmp_path: Path, case: str) -> None:
    entries, message = HOSTILE[case]
    blob = tmp_path / "layer.tar.gz"
    blob.write_bytes(gzipped(layer_tar(entries)))
    out = tmp_path / "out.tar"
    with pytest.raises(UnsafeLayerError) as err:
        decompress_layer(blob, out, compressed_size=blob.stat().st_size, what="layer")
    assert message in str(err.value)
    assert not out.exists()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_layer_writes_nothing_outside_when_extracted(tmp_path: Path,
                                                             case: str) -> None:
    entries, _ = HOSTILE[case]
    blob = tmp_path / "layer.tar"
    blob.write_bytes(layer_tar(entries))
    root = tmp_path / "a" / "b" / "c" / "root"
    root.mkdir(parents=True)
    before = sorted(p for p in tmp_path.rglob("*") if not p.is_relative_to(root))
    with pytest.raises(UnsafeLayerError):
        extract_layer(blob, root)
    after = sorted(p for p in tmp_path.rglob("*") if not p.is_relative_to(root))
    assert after == before
    assert not Path("/tmp/escaped").exists()


def test_benign_links_are_accepted_and_extracted_inside(tmp_path: Path) -> None:
    entries = [("dir", "usr", ""), ("dir", "usr/bin", ""), ("file", "usr/bin/tool", b"#!x"),
               ("symlink", "bin", "usr/bin"),                      # relative, inside
               ("dir", "etc", ""), ("symlink", "etc/alt", "/usr/bin/tool"),  # absolute
               ("symlink", "etc/os", "../usr/bin/tool"),
               ("hardlink", "usr/bin/tool2", "usr/bin/tool")]
    blob = tmp_path / "layer.tar"
    blob.write_bytes(layer_tar(entries))
    assert decompress_layer(blob, None, compressed_size=blob.stat().st_size, what="l") == \
        sha256(blob.read_bytes())
    root = tmp_path / "root"
    root.mkdir()
    extract_layer(blob, root)
    assert (root / "usr/bin/tool2").read_bytes() == b"#!x"
    assert (root / "usr/bin/tool").stat().st_nlink == 2
    assert (root / "etc/alt").readlink() == Path("/usr/bin/tool")


def test_later_layer_cannot_write_through_an_absolute_symlink(tmp_path: Path) -> None:
    """A lower layer's `link -> /` must resolve inside the root, not on the host."""
    root = tmp_path / "root"
    root.mkdir()
    lower = tmp_path / "lower.tar"
    lower.write_bytes(layer_tar([("symlink", "hostroot", "/"), ("dir", "tmp", "")]))
    upper = tmp_path / "upper.tar"
    upper.write_bytes(layer_tar([("file", "hostroot/tmp/ndx-escape-probe", b"x")]))
    extract_layer(lower, root)
    extract_layer(upper, root)
    assert (root / "tmp" / "ndx-escape-probe").read_bytes() == b"x"
    assert not Path("/tmp/ndx-escape-probe").exists()


def test_whiteouts_remove_lower_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    lower, upper = tmp_path / "lower.tar", tmp_path / "upper.tar"
    lower.write_bytes(layer_tar([("dir", "d", ""), ("file", "d/a", b"1"), ("file", "d/b", b"2"),
                                 ("dir", "o", ""), ("file", "o/old", b"3")]))
    upper.write_bytes(layer_tar([("file", "d/.wh.a", b""), ("dir", "o", ""),
                                 ("file", "o/.wh..wh..opq", b""), ("file", "o/new", b"4")]))
    extract_layer(lower, root)
    extract_layer(upper, root)
    assert sorted(p.name for p in (root / "d").iterdir()) == ["b"]
    assert sorted(p.name for p in (root / "o").iterdir()) == ["new"]


def test_gzip_bomb_is_bounded(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.tar.gz"
    gzip_bomb(bomb, 96 << 20)  # ~100 KB that would expand to 96 MiB
    assert bomb.stat().st_size < 200_000
    out = tmp_path / "out.tar"
    with pytest.raises(UnsafeLayerError) as err:
        decompress_layer(bomb, out, compressed_size=bomb.stat().st_size, what="layer")
    assert "decompression bomb" in str(err.value)
    assert not out.exists()
    # A genuine but very compressible layer can be let through by raising the ratio.
    assert decompress_layer(bomb, None, compressed_size=bomb.stat().st_size, what="layer",
                            limits=LayerLimits(max_ratio=5000)).startswith("sha256:")


@pytest.mark.parametrize("case", ["dotdot", "symlink-out", "hardlink-out"])
def test_pull_of_a_hostile_image_stores_nothing(registry: Registry, tmp_path: Path,
                                                case: str) -> None:
    tar = layer_tar(HOSTILE[case][0])
    digest = publish(registry.host, f"hostile/{case}", "v1", [(gzipped(tar), sha256(tar))])
    out = tmp_path / "store" / "image.tar"
    with pytest.raises(UnsafeLayerError):
        pull_image(f"{registry.host}/hostile/{case}", digest, out,
                   options=ClientOptions(insecure=True))
    assert not out.exists()
    assert list((tmp_path / "store").iterdir()) == []


def test_pull_of_a_gzip_bomb_stores_nothing(registry: Registry, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.tar.gz"
    gzip_bomb(bomb, 80 << 20)
    data = bomb.read_bytes()
    # The diff ID does not matter: the bound trips first.
    digest = publish(registry.host, "hostile/bomb", "v1", [(data, "sha256:" + "0" * 64)])
    out = tmp_path / "store" / "image.tar"
    with pytest.raises(UnsafeLayerError) as err:
        pull_image(f"{registry.host}/hostile/bomb", digest, out,
                   options=ClientOptions(insecure=True))
    assert "decompression bomb" in str(err.value)
    assert list((tmp_path / "store").iterdir()) == []
