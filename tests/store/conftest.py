"""Fixtures for the store tests: a fresh disk store per test, and a small tree to add."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ndx.stdlib.store.disk import DiskStore
from ndx.stdlib.store.memory import MemoryStore


@pytest.fixture
def disk_store(tmp_path) -> Iterator[DiskStore]:
    store = DiskStore(str(tmp_path / "store"))
    yield store
    store.close()


@pytest.fixture(params=["memory", "disk"])
def any_store(request, tmp_path) -> Iterator[MemoryStore | DiskStore]:
    """Each StoreIO implementation in turn (the conformance tests run over both)."""
    if request.param == "memory":
        yield MemoryStore()
    else:
        store = DiskStore(str(tmp_path / "store"))
        yield store
        store.close()


@pytest.fixture
def tree(tmp_path) -> str:
    """src/ with a file, an executable, a subdirectory and a symlink."""
    root = tmp_path / "src"
    (root / "sub").mkdir(parents=True)
    (root / "hello.c").write_text("int main(void) { return 0; }\n")
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(root / "run.sh", 0o755)
    (root / "sub" / "data.txt").write_text("data\n")
    os.symlink("sub/data.txt", root / "link")
    return str(root)
