"""`ndx store verify`: is the database consistent with the disk?

It reports valid paths whose contents are missing, registered references to paths that
are gone, unregistered entries in the store directory and — with `check_contents` —
paths whose NAR hash no longer matches the one recorded when they were registered.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .encoding import nix_base32
from .nar import NarError, hash_path
from .paths import STORE_DIR

if TYPE_CHECKING:
    from .disk import DiskStore


@dataclass
class VerifyReport:
    """Problems found, one human-readable line each."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_store(store: DiskStore, *, check_contents: bool = False) -> VerifyReport:
    """Check every valid path (see the module docstring)."""
    report = VerifyReport()
    graph = store.db.all_references()
    for path in sorted(graph):
        report.checked += 1
        real = store.real_path(path)
        if not os.path.lexists(real):
            report.problems.append(f"'{path}' is registered but missing from "
                                   f"'{store.physical_dir}'")
            continue
        for ref in sorted(graph[path]):
            if ref not in graph:
                report.problems.append(f"'{path}' refers to '{ref}', which is not valid")
        if check_contents:
            info = store.path_info(path)
            try:
                digest, size = hash_path(real)
            except (NarError, OSError) as exc:
                report.problems.append(f"'{path}' cannot be read: {exc}")
                continue
            actual = "sha256:" + nix_base32(digest)
            if actual != info.nar_hash or size != info.nar_size:
                report.problems.append(f"'{path}' was modified: its NAR hash is {actual}, "
                                       f"but {info.nar_hash} was recorded")
    for entry in sorted(os.listdir(store.physical_dir)):
        if not entry.startswith(".") and f"{STORE_DIR}/{entry}" not in graph:
            report.problems.append(f"'{STORE_DIR}/{entry}' is in the store directory but "
                                   "not registered (a leftover; 'ndx store gc' removes it)")
    return report
