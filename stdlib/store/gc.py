"""Garbage collection and deletion: a path is alive if it is reachable (through
references) from a root — a symlink in `.ndx/gcroots` (direct, or in `auto/` pointing
at a `result` link that still points into the store) or a temporary root of a live
process. Everything else can go.

The collector holds the GC lock exclusively, so no process is adding or building
paths while it decides; each path is unregistered (its referrers first) and only then
removed from disk, so a crash leaves at most an unregistered entry, never a valid path
with missing contents.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .derived import prune_derived
from .errors import StoreError
from .fsutil import remove_tree, tree_size
from .locks import PathLock, temp_roots
from .paths import STORE_DIR, is_store_path, to_store_path

if TYPE_CHECKING:
    from .disk import DiskStore


@dataclass
class GCResult:
    """What a collection removed (or, for a dry run, would remove)."""

    deleted: list[str] = field(default_factory=list)
    freed: int = 0


def find_roots(store: DiskStore) -> dict[str, str]:
    """Every root: where it is (a link's path) → the store path it keeps alive. Stale
    indirect roots (whose `result` link is gone or points elsewhere) are removed."""
    roots: dict[str, str] = {}
    root_dir = os.path.join(store.state_dir, "gcroots")
    auto = os.path.join(root_dir, "auto")
    for directory, dirs, files in os.walk(root_dir):
        for name in sorted(files + dirs):
            link = os.path.join(directory, name)
            if not os.path.islink(link):
                continue
            target = os.readlink(link)
            if directory == auto:
                # An indirect root: a symlink to the user's `result` link.
                path = _store_path_of_link(store, target)
                if path is None:
                    _unlink(link)
                else:
                    roots[target] = path
                continue
            path = _to_logical(store, target)
            if path is not None and is_store_path(path):
                roots[link] = path
    return roots


def _store_path_of_link(store: DiskStore, link: str) -> str | None:
    if not os.path.islink(link):
        return None
    return _to_logical(store, os.readlink(link))


def _to_logical(store: DiskStore, target: str) -> str | None:
    """The logical store path a link target (physical or logical) lies in, if any."""
    for prefix in (store.physical_dir, STORE_DIR):
        if target.startswith(prefix + "/"):
            try:
                return to_store_path(STORE_DIR + target[len(prefix):])
            except ValueError:
                return None
    return None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def live_paths(store: DiskStore, graph: dict[str, set[str]]) -> set[str]:
    """The closure of the roots and temporary roots, within the valid paths `graph`."""
    todo = [p for p in (*find_roots(store).values(),
                        *temp_roots(os.path.join(store.state_dir, "temproots")))
            if p in graph]
    alive: set[str] = set()
    while todo:
        path = todo.pop()
        if path not in alive:
            alive.add(path)
            todo.extend(graph[path] - alive)
    return alive


def collect_garbage(store: DiskStore, *, dry_run: bool = False,
                    on_wait: Callable[[], None] | None = None) -> GCResult:
    """Delete every valid path not reachable from a root, and every unregistered entry."""
    result = GCResult()
    with store.gc_lock.exclusive(on_wait):
        graph = store.db.all_references()
        dead = set(graph) - live_paths(store, graph)
        for path in _referrers_first(dead, graph):
            size = tree_size(store.real_path(path)) if os.path.lexists(
                store.real_path(path)) else 0
            if not dry_run and not _delete_one(store, path):
                continue
            result.deleted.append(path)
            result.freed += size
        # Caches derived from the paths just deleted (image layers) go with them.
        result.freed += prune_derived(store.state_dir, set(graph) - set(result.deleted),
                                      dry_run=dry_run)
        if not dry_run:
            result.deleted += store.remove_invalid_entries()
            # Partial downloads kept for resuming: no build runs now to continue them.
            downloads = os.path.join(store.state_dir, "downloads")
            if os.path.isdir(downloads):
                for entry in os.listdir(downloads):
                    result.freed += os.lstat(os.path.join(downloads, entry)).st_size
                    remove_tree(os.path.join(downloads, entry))
    return result


def delete_paths(store: DiskStore, paths: Iterable[str]) -> GCResult:
    """Delete exactly `paths`, refusing any that is alive (reachable from a root) or
    referenced by a path not being deleted."""
    result = GCResult()
    wanted = {store.resolve(p) for p in paths}
    with store.gc_lock.exclusive():
        graph = store.db.all_references()
        for path in sorted(wanted):
            if path not in graph:
                raise StoreError(f"cannot delete '{path}': it is not a valid store path")
            referrers = sorted(r for r, refs in graph.items()
                               if path in refs and r != path and r not in wanted)
            if referrers:
                raise StoreError(f"cannot delete '{path}': it is still referenced by "
                                 f"'{referrers[0]}'"
                                 + (f" and {len(referrers) - 1} more" if len(referrers) > 1
                                    else ""))
        alive = live_paths(store, graph)
        for path in sorted(wanted & alive):
            raise StoreError(f"cannot delete '{path}': it is still alive (reachable from "
                             "a GC root such as a 'result' link)")
        for path in _referrers_first(wanted, graph):
            size = tree_size(store.real_path(path))
            if _delete_one(store, path):
                result.deleted.append(path)
                result.freed += size
        result.freed += prune_derived(store.state_dir, set(graph) - set(result.deleted))
    return result


def _referrers_first(paths: set[str], graph: dict[str, set[str]]) -> list[str]:
    """`paths` ordered so each comes before the paths it references."""
    order: list[str] = []
    visited: set[str] = set()
    for start in sorted(paths):
        if start in visited:
            continue
        stack = [(start, iter(sorted(graph[start] & paths - {start})))]
        visited.add(start)
        while stack:
            node, refs = stack[-1]
            for ref in refs:
                if ref not in visited:
                    visited.add(ref)
                    stack.append((ref, iter(sorted(graph[ref] & paths - {ref}))))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _delete_one(store: DiskStore, path: str) -> bool:
    """Unregister `path`, then remove it from disk (skipped if someone holds its lock)."""
    lock = PathLock(store.lock_file(path))
    if not lock.acquire(blocking=False):
        return False
    try:
        with store.db.transaction() as conn:
            store.db.invalidate(conn, path)
        remove_tree(store.real_path(path))
    finally:
        lock.release(delete=True)
    return True
