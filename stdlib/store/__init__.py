"""The ndx store: content-addressed paths under the logical directory `/ndx/store`.

`MemoryStore` computes paths without a disk; `DiskStore` keeps them on disk with a SQLite
database, builds derivations in a sandbox, scans outputs for references and collects
garbage. Both implement `ndx.evaluator.io.StoreIO`.
"""

from __future__ import annotations

from .errors import BuildError, HashMismatchError, SandboxUnavailableError, StoreError
from .memory import MemoryStore
from .paths import STORE_DIR, placeholder

__all__ = ["STORE_DIR", "BuildError", "HashMismatchError", "MemoryStore",
           "SandboxUnavailableError", "StoreError", "placeholder"]
