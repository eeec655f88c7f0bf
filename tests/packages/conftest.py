"""Tests of the library written in ndx (lib, stdenv, trivial builders, packages), the stdenv
phases script and the offline source mirror.

The end-to-end modules share one temporary store (`ndx_store`), so a package that two of
them need (busybox, redis) is built once per run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIRROR_SCRIPT = ROOT / "scripts" / "setup.d" / "20-source-mirror.sh"
MIRROR = ROOT / ".cache" / "mirror"


@pytest.fixture(scope="session")
def build_env() -> dict[str, str]:
    """The environment of ndx-build: the source mirror filled and offered by hash."""
    subprocess.run(["sh", str(MIRROR_SCRIPT)], check=True, timeout=900)
    return dict(os.environ, NDX_HASHED_MIRRORS=f"file://{MIRROR}")


@pytest.fixture(scope="session")
def ndx_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store for the end-to-end builds of this folder (never /ndx/store)."""
    return tmp_path_factory.mktemp("ndx-store")
