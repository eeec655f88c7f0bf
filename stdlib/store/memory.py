"""A store held in memory: the same paths as the disk store, no disk, no builds.

The evaluator's tests and pure evaluations (`ndx eval`) use it. Contents are kept as
in-memory trees; `real_path` writes a path out to a private temporary directory the
first time someone needs its bytes on disk (e.g. `builtins.readFile`), and that
directory disappears with the store. Building is impossible here: `realise` of an
output that is not already valid raises `NotAvailableError`.
"""

from __future__ import annotations

import os
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ndx.evaluator.errors import NotAvailableError
from ndx.evaluator.io import Derivation, FixedOutput, Instantiated

from . import drv as drvmod
from .encoding import nix_base32, sha256
from .errors import StoreError
from .fixed import check_fixed_tree
from .fsutil import remove_tree
from .hostdeps import host_fingerprint
from .nar import Node, Regular, hash_tree, read_tree, write_tree
from .paths import (
    STORE_DIR,
    InvalidNameError,
    check_name,
    fixed_output_path,
    source_path,
    text_path,
    to_store_path,
)


@dataclass(frozen=True)
class MemoryEntry:
    """A valid path of the memory store."""

    tree: Node
    references: frozenset[str]
    deriver: str | None = None


class MemoryStore:
    """`StoreIO` in memory, computing exactly the disk store's paths."""

    def __init__(self) -> None:
        self._entries: dict[str, MemoryEntry] = {}
        self._drvs: dict[str, drvmod.StoreDerivation] = {}
        self._hash_modulo: dict[str, bytes] = {}
        self._materialized: str | None = None
        self._lock = threading.RLock()

    # ---- StoreIO ----

    @property
    def store_dir(self) -> str:
        return STORE_DIR

    def add_path(self, source: str, *, name: str, recursive: bool = True,
                 filter: Callable[[str, str], bool] | None = None) -> str:
        _check(name)
        if not os.path.lexists(source):
            raise StoreError(f"cannot add '{source}' to the store: it does not exist")
        if recursive:
            tree = read_tree(source, filter)
            digest, _size = hash_tree(tree)
            path = source_path(name, digest)
        else:
            if not os.path.isfile(source):
                raise StoreError(f"cannot add '{source}' to the store flat: "
                                 "it is not a regular file")
            tree = read_tree(source)
            assert isinstance(tree, Regular)
            path = fixed_output_path(name, "sha256", sha256(tree.contents), False)
        self._put(path, MemoryEntry(tree, frozenset()))
        return path

    def add_text(self, name: str, text: str, references: Sequence[str]) -> str:
        _check(name)
        data = text.encode("utf-8", "surrogateescape")  # the bytes of an ndx string
        for ref in references:
            if not self.is_valid(ref):
                raise StoreError(f"cannot store text '{name}': its reference '{ref}' "
                                 "is not a valid store path")
        path = text_path(name, data, references)
        self._put(path, MemoryEntry(Regular(data), frozenset(references)))
        return path

    def instantiate(self, drv: Derivation) -> Instantiated:
        with self._lock:
            for src in drv.input_srcs:
                if not self.is_valid(src):
                    raise StoreError(f"derivation '{drv.name}': input '{src}' is not a "
                                     "valid store path")
            try:
                drv_path, stored, text = drvmod.instantiate(drv, self._input_hash,
                                                            host_fingerprint)
            except drvmod.DerivationError as exc:
                raise StoreError(str(exc)) from None
            refs = frozenset(drv.input_srcs) | frozenset(drv.input_drvs)
            self._put(drv_path, MemoryEntry(Regular(text.encode("utf-8", "surrogateescape")), refs))
            self._drvs[drv_path] = stored
            return Instantiated(drv_path, stored.output_paths())

    def realise(self, paths: Sequence[str]) -> None:
        for path in paths:
            if not self.is_valid(_store_path(path)):
                raise NotAvailableError(
                    f"'{path}' must be built, but this evaluation uses an in-memory store "
                    "that cannot build (use the disk store, e.g. ndx-build)")

    def real_path(self, path: str) -> str:
        base = _store_path(path)
        with self._lock:
            entry = self._entries.get(base)
            if entry is None:
                raise StoreError(f"'{base}' is not a valid store path")
            if self._materialized is None:
                self._materialized = tempfile.mkdtemp(prefix="ndx-memory-store-")
                weakref.finalize(self, remove_tree, self._materialized)
            physical = os.path.join(self._materialized, base.rsplit("/", 1)[1])
            if not os.path.lexists(physical):
                write_tree(entry.tree, physical)
        return physical + path[len(base):]

    def is_valid(self, path: str) -> bool:
        return path in self._entries

    # ---- beyond StoreIO ----

    def add_fixed(self, source: str, name: str, fixed: FixedOutput) -> str:
        """Add `source` as the output of a fixed-output fetch: its content must have the
        hash `fixed` (HashMismatchError otherwise); the path depends only on that hash."""
        _check(name)
        check_fixed_tree(source, fixed, name)
        path = fixed_output_path(name, fixed.algo, fixed.digest, fixed.recursive)
        self._put(path, MemoryEntry(read_tree(source), frozenset()))
        return path

    def read_derivation(self, drv_path: str) -> drvmod.StoreDerivation:
        """The store derivation at `drv_path`."""
        try:
            return self._drvs[drv_path]
        except KeyError:
            raise StoreError(f"'{drv_path}' is not a derivation in this store") from None

    def references(self, path: str) -> frozenset[str]:
        """The store paths `path` refers to."""
        return self._entries[path].references

    def closure(self, paths: Iterable[str]) -> set[str]:
        """`paths` and everything they refer to, transitively."""
        seen: set[str] = set()
        todo = list(paths)
        while todo:
            path = todo.pop()
            if path not in seen:
                seen.add(path)
                todo.extend(self._entries[path].references)
        return seen

    def nar_hash(self, path: str) -> str:
        """`sha256:<base32>` of the path's NAR serialization."""
        return "sha256:" + nix_base32(hash_tree(self._entries[path].tree)[0])

    # ---- internals ----

    def _put(self, path: str, entry: MemoryEntry) -> None:
        with self._lock:
            self._entries.setdefault(path, entry)

    def _input_hash(self, drv_path: str) -> bytes:
        cached = self._hash_modulo.get(drv_path)
        if cached is None:
            stored = self.read_derivation(drv_path)
            cached = drvmod.hash_modulo(stored, self._input_hash)
            self._hash_modulo[drv_path] = cached
        return cached


def _check(name: str) -> None:
    try:
        check_name(name)
    except InvalidNameError as exc:
        raise StoreError(str(exc)) from None


def _store_path(path: str) -> str:
    try:
        return to_store_path(path)
    except ValueError as exc:
        raise StoreError(str(exc)) from None

