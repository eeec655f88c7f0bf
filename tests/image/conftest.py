"""Fixtures for the image tests: store-like trees in temporary directories (the real
engines, `dockerd` and `podman`, are the session's, from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .storetree import FakeStore


@pytest.fixture
def store(tmp_path: Path) -> FakeStore:
    """An empty store-like tree in a temporary directory."""
    return FakeStore(tmp_path / "store")
