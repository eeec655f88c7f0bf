"""Fixtures for the image tests: real engines (dockerd, podman) started once per session on
private sockets and storage, and store-like trees in temporary directories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines import DockerEngine, Podman, make_podman, start_dockerd

from .storetree import FakeStore


@pytest.fixture(scope="session")
def dockerd() -> Iterator[DockerEngine]:
    """A private Docker engine for the whole session (never skipped: a missing engine fails)."""
    engine = start_dockerd()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def podman() -> Iterator[Podman]:
    """podman with private vfs storage for the whole session."""
    instance = make_podman()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def store(tmp_path: Path) -> FakeStore:
    """An empty store-like tree in a temporary directory."""
    return FakeStore(tmp_path / "store")
