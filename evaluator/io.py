"""The narrow interface through which the evaluator reaches a store.

The evaluator never touches the on-disk store: it receives an object implementing
`StoreIO` (the disk store in `ndx.stdlib.store`, or an in-memory store for tests and
pure evaluation). Both implementations pass one shared conformance test module.

Store paths handed across this interface are *logical* paths under `store_dir`
(`/ndx/store/<32-char hash>-<name>`); `real_path` maps one to where its bytes are on this
machine, which differs when the store lives elsewhere (`--store`, `NDX_STORE`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class FixedOutput:
    """The expected content of a fixed-output derivation's single output `out`.

    `algo` is "sha256", "sha1", "sha512" or "md5"; `digest` the raw digest bytes;
    `recursive` is True for `outputHashMode = "recursive"` (hash of the NAR serialization)
    and False for "flat" (hash of the file's bytes)."""

    algo: str
    digest: bytes
    recursive: bool


@dataclass(frozen=True)
class Derivation:
    """A derivation as the evaluator instantiates it, before output paths are known.

    `env` holds every environment variable *except* the output paths (`out`, …), which
    the store computes and fills in. `input_drvs` maps each input derivation's path to the
    names of its outputs this derivation uses; `input_srcs` are plain store paths (sources,
    `toFile` results). `fixed` is set for fixed-output derivations.
    """

    name: str
    system: str
    builder: str
    args: tuple[str, ...]
    env: Mapping[str, str]
    outputs: tuple[str, ...] = ("out",)
    input_drvs: Mapping[str, frozenset[str]] = field(default_factory=dict)
    input_srcs: frozenset[str] = frozenset()
    fixed: FixedOutput | None = None


@dataclass(frozen=True)
class Instantiated:
    """What the store answers for an instantiated derivation: the `.drv` file's store path
    and the store path of each output."""

    drv_path: str
    outputs: Mapping[str, str]


class StoreIO(Protocol):
    """What the evaluator needs from a store."""

    @property
    def store_dir(self) -> str:
        """The logical store directory, `/ndx/store`."""
        ...

    def add_path(self, source: str, *, name: str, recursive: bool = True,
                 filter: Callable[[str, str], bool] | None = None) -> str:
        """Copy the host file or directory `source` into the store, content-addressed
        (like Nix's `"${./src}"`, `builtins.path`, `filterSource`), and return its store
        path. `filter(path, type)` — type is "regular", "directory", "symlink" or
        "unknown" — decides which entries are kept. `recursive=False` stores a single
        regular file hashed flat."""
        ...

    def add_text(self, name: str, text: str, references: Sequence[str]) -> str:
        """Store a text file (`builtins.toFile`) whose references are the given store
        paths, and return its store path."""
        ...

    def instantiate(self, drv: Derivation) -> Instantiated:
        """Compute the output paths of `drv`, fill them into its environment, write the
        `.drv` file and return the paths. Deterministic: the same derivation always yields
        the same paths."""
        ...

    def realise(self, paths: Sequence[str]) -> None:
        """Make the given store paths valid, building the derivations that produce them if
        needed (import-from-derivation, `readFile` of a build output)."""
        ...

    def real_path(self, path: str) -> str:
        """Where the bytes of logical store path `path` (or a file inside it) are on this
        machine."""
        ...

    def is_valid(self, path: str) -> bool:
        """Whether `path` is a valid (registered) store path."""
        ...

    def references(self, path: str) -> frozenset[str]:
        """The store paths the valid store path `path` refers to (its own path included
        when it refers to itself)."""
        ...
