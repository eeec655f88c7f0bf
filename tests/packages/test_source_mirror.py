"""The offline source mirror script: fills <mirror>/<algo>/<hex> from Debian's source
packages, verifies every hash, and does nothing (not even run apt) when already filled."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "setup.d" / "20-source-mirror.sh"
LIST = ROOT / "scripts" / "source-mirror.list"


def run_mirror(tmp_path: Path, mirror: Path, listing: Path,
               path_prefix: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ,
               NDX_SOURCE_MIRROR=str(mirror),
               NDX_SOURCE_MIRROR_LIST=str(listing),
               NDX_APT_SOURCE_STATE=str(tmp_path / "apt-state"))
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    return subprocess.run(["sh", str(SCRIPT)], check=False, env=env, capture_output=True, text=True,
                          timeout=600)


def listed_entries(listing: Path) -> list[tuple[str, str, str, str]]:
    entries = []
    for line in listing.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pkg, release, file, sha256 = line.split()
            entries.append((pkg, release, file, sha256))
    return entries


@pytest.fixture(scope="module")
def filled_mirror(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("mirror-run")
    mirror = tmp / "mirror"
    result = run_mirror(tmp, mirror, LIST)
    assert result.returncode == 0, result.stderr
    return tmp, mirror


def test_every_listed_tarball_is_stored_under_each_hash(filled_mirror: tuple[Path, Path]) -> None:
    _, mirror = filled_mirror
    entries = listed_entries(LIST)
    assert {e[0] for e in entries} >= {"redis", "busybox", "shadow"}
    for _pkg, _release, _file, sha256 in entries:
        data = (mirror / "sha256" / sha256).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256
        assert (mirror / "sha1" / hashlib.sha1(data).hexdigest()).read_bytes() == data
        assert (mirror / "sha512" / hashlib.sha512(data).hexdigest()).read_bytes() == data


def test_the_redis_tarballs_the_issue_names_are_there(filled_mirror: tuple[Path, Path]) -> None:
    _, mirror = filled_mirror
    for sha256 in ("4b1dc4ee6d622a09fff9c6777191209750fb5e5a725ef78ea012d6eef4c22982",
                   "8bea58a468bb67bedc92d8c2e44c170e42e6ea02527cbc5d233e92e8d78d1b99"):
        assert (mirror / "sha256" / sha256).is_file()


def test_a_filled_mirror_is_left_alone_without_running_apt(
        filled_mirror: tuple[Path, Path], tmp_path: Path) -> None:
    tmp, mirror = filled_mirror
    # An apt-get that fails loudly: the second run must not need it at all.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "apt-get").write_text("#!/bin/sh\necho 'apt-get was run' >&2\nexit 99\n")
    (fake_bin / "apt-get").chmod(0o755)
    before = {p: p.stat().st_mtime_ns for p in mirror.rglob("*")}
    result = run_mirror(tmp, mirror, LIST, path_prefix=fake_bin)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert {p: p.stat().st_mtime_ns for p in mirror.rglob("*")} == before


def test_a_tarball_whose_hash_differs_is_refused(tmp_path: Path) -> None:
    wrong = "0" * 64
    listing = tmp_path / "list"
    listing.write_text(f"busybox bookworm busybox_1.35.0.orig.tar.bz2 {wrong}\n")
    mirror = tmp_path / "mirror"
    result = run_mirror(tmp_path, mirror, listing)
    assert result.returncode != 0
    assert f"expected {wrong}" in result.stderr
    assert not (mirror / "sha256" / wrong).exists()
    assert list((mirror / "sha256").iterdir()) == []


def test_a_package_that_no_longer_ships_the_file_is_reported(tmp_path: Path) -> None:
    # busybox/bookworm is downloaded, but the named tarball is not among its files.
    listing = tmp_path / "list"
    listing.write_text(f"busybox bookworm busybox_0.1.orig.tar.bz2 {'1' * 64}\n")
    result = run_mirror(tmp_path, tmp_path / "mirror", listing)
    assert result.returncode != 0
    assert "no longer ships busybox_0.1.orig.tar.bz2" in result.stderr
