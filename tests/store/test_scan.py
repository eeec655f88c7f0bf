"""Reference scanning finds a store path's hash part wherever it occurs: inside longer
runs of base32 characters, across read chunks, in symlink targets and file names."""

from __future__ import annotations

import os

from ndx.stdlib.store import scan
from ndx.stdlib.store.scan import scan_references

A = "/ndx/store/" + "0123456789abcdfghijklmnpqrsvwxyz" + "-a"
B = "/ndx/store/" + "zyxwvsrqpnmlkjihgfdcba9876543210" + "-b"


def test_hash_inside_a_longer_run(tmp_path) -> None:
    (tmp_path / "f").write_bytes(b"xx" + b"abc" + A[11:43].encode() + b"zz9\x00tail")
    assert scan_references(str(tmp_path / "f"), [A, B]) == {A}


def test_symlink_targets_and_names(tmp_path) -> None:
    os.symlink(B + "/bin/sh", tmp_path / "sh")
    (tmp_path / f"{A[11:43]}-named").write_text("nothing here")
    assert scan_references(str(tmp_path), [A, B]) == {A, B}


def test_nothing_found_in_unrelated_data(tmp_path) -> None:
    (tmp_path / "f").write_bytes(bytes(range(256)) * 100 + b"0123456789abcdfghijklmnpqrsvwx")
    assert scan_references(str(tmp_path / "f"), [A, B]) == set()


def test_chunk_boundaries(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(scan, "CHUNK", 64)
    for offset in range(40, 100):
        data = b"-" * offset + A[11:43].encode() + b"-" * 50
        (tmp_path / "f").write_bytes(data)
        assert scan_references(str(tmp_path / "f"), [A, B]) == {A}, offset
