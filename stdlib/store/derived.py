"""Caches derived from store paths, kept in the state directory and pruned by the garbage
collector: `DIR/.ndx/derived/<kind>/<key>/`, each entry holding a `sources` file that
lists the store paths it was made from (the image layer cache is one such kind).

The store knows nothing of what an entry holds: once one of its sources is no longer
valid, the entry is removed. Only the collector prunes, holding the GC lock exclusively,
so no build is using an entry while it goes; `.tmp-*` directories are what an
interrupted writer left.
"""

from __future__ import annotations

import os
from collections.abc import Set as AbstractSet

from .fsutil import remove_tree, tree_size

#: The directory under the state directory.
DERIVED = "derived"


def prune_derived(state_dir: str, valid: AbstractSet[str], *, dry_run: bool = False) -> int:
    """Remove every entry with a source not in `valid` (and leftovers of interrupted
    writers). Returns the bytes freed (or that would be, for a dry run)."""
    root = os.path.join(state_dir, DERIVED)
    if not os.path.isdir(root):
        return 0
    freed = 0
    for kind in sorted(os.listdir(root)):
        directory = os.path.join(root, kind)
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            entry = os.path.join(directory, name)
            if name.endswith(".lock"):
                continue
            if name.startswith(".tmp-") or not _alive(entry, valid):
                freed += tree_size(entry) if os.path.isdir(entry) else 0
                if not dry_run:
                    remove_tree(entry)
    return freed


def _alive(entry: str, valid: AbstractSet[str]) -> bool:
    try:
        with open(os.path.join(entry, "sources")) as f:
            sources = [line.strip() for line in f if line.strip()]
    except OSError:
        return False
    return all(path in valid for path in sources)
