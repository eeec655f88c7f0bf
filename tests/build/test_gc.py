"""Garbage collection keeps exactly what `result` links (and live processes) reach;
`delete` refuses live or referenced paths; `verify` notices damage."""

from __future__ import annotations

import os

import pytest
from ndx.lang.errors import NdxError
from ndx.stdlib.store.disk import DiskStore


@pytest.fixture
def built(store, make, tmp_path):
    """lib ← app (runtime reference), tool (build-only input of app); the store closed,
    so only roots protect anything."""
    lib = make("lib", "echo lib > $out")
    tool = make("tool", "echo tool > $out")
    app = make("app", "cat $dep1 > /dev/null; echo $dep0 > $out", deps=(lib, tool))
    store.build([app.drv_path])
    root = store.add_root(str(tmp_path / "result"), app.outputs["out"])
    return {"lib": lib, "tool": tool, "app": app, "root": root}


def reopen(store) -> DiskStore:
    store.close()
    return DiskStore(store.physical_dir)


def test_gc_keeps_the_closure_of_result_links(store, built, busybox) -> None:
    fresh = reopen(store)
    junk = os.path.join(store.physical_dir, "00000000000000000000000000000000-junk")
    os.mkdir(junk)      # an unregistered leftover (opening the store removes those too)
    try:
        result = fresh.collect_garbage()
        app, lib, tool = (built[k].outputs["out"] for k in ("app", "lib", "tool"))
        assert fresh.is_valid(app) and fresh.is_valid(lib)
        assert os.path.exists(fresh.real_path(app))
        for gone in (tool, busybox, built["app"].drv_path, built["lib"].drv_path):
            assert not fresh.is_valid(gone)
            assert not os.path.lexists(fresh.real_path(gone))
            assert gone in result.deleted
        assert "/ndx/store/00000000000000000000000000000000-junk" in result.deleted
        assert not os.path.lexists(junk)
        assert sorted(os.listdir(fresh.physical_dir)) == sorted(
            [".ndx", os.path.basename(app), os.path.basename(lib)])
        assert fresh.verify(check_contents=True).ok

        os.unlink(built["root"])
        fresh.collect_garbage()
        assert not fresh.is_valid(app) and not fresh.is_valid(lib)
        assert os.listdir(os.path.join(fresh.state_dir, "gcroots", "auto")) == []
    finally:
        fresh.close()


def test_result_link_points_at_the_physical_path(store, built) -> None:
    assert os.readlink(built["root"]) == store.real_path(built["app"].outputs["out"])
    assert store.resolve(built["root"]) == built["app"].outputs["out"]


def test_retargeted_result_link_releases_the_old_path(store, built, make) -> None:
    other = make("other", "echo other > $out")
    store.build([other.drv_path])
    store.add_root(built["root"], other.outputs["out"])
    fresh = reopen(store)
    try:
        fresh.collect_garbage()
        assert fresh.is_valid(other.outputs["out"])
        assert not fresh.is_valid(built["app"].outputs["out"])
    finally:
        fresh.close()


def test_paths_in_use_by_a_live_process_survive(store, make, tree_dir) -> None:
    src = store.add_path(tree_dir, name="in-use")
    collector = DiskStore(store.physical_dir)
    try:
        collector.collect_garbage()
        assert collector.is_valid(src)
        store.close()
        collector.collect_garbage()
        assert not collector.is_valid(src)
    finally:
        collector.close()


@pytest.fixture
def tree_dir(tmp_path) -> str:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "file").write_text("content\n")
    return str(root)


def test_dry_run_deletes_nothing(store, built) -> None:
    fresh = reopen(store)
    try:
        result = fresh.collect_garbage(dry_run=True)
        assert built["tool"].outputs["out"] in result.deleted
        assert fresh.is_valid(built["tool"].outputs["out"])
    finally:
        fresh.close()


def test_delete_refuses_referenced_and_live_paths(store, built) -> None:
    fresh = reopen(store)
    try:
        lib = built["lib"].outputs["out"]
        with pytest.raises(NdxError, match="still referenced by"):
            fresh.delete([lib])
        with pytest.raises(NdxError, match="still alive"):
            fresh.delete([built["app"].outputs["out"]])
        tool = built["tool"].outputs["out"]
        assert fresh.delete([tool]).deleted == [tool]
        assert not os.path.lexists(fresh.real_path(tool))
        with pytest.raises(NdxError, match="not a valid store path"):
            fresh.delete([tool])
    finally:
        fresh.close()


def test_verify_finds_modified_and_missing_paths(store, built) -> None:
    assert store.verify(check_contents=True).ok
    lib = store.real_path(built["lib"].outputs["out"])
    os.chmod(lib, 0o644)
    with open(lib, "a") as file:
        file.write("tampered\n")
    assert store.verify().ok        # without --check-contents only presence is checked
    problems = store.verify(check_contents=True).problems
    assert len(problems) == 1 and "was modified" in problems[0]
    tool = store.real_path(built["tool"].outputs["out"])
    os.unlink(tool)
    assert any("missing" in p for p in store.verify().problems)
