"""A persistent cache of parsed files, like Python's `.pyc`: a file parsed once is not
parsed again by the next process, unless its text or the parser changed.

Entries live in the user's cache directory (`$NDX_CACHE_DIR`, else
`$XDG_CACHE_HOME/ndx`, else `~/.cache/ndx`), under `ast/`, named by a hash of the
parser's own source code, the file's path and its text — so a stale entry can never be
used. `NDX_PARSE_CACHE=0` turns the cache off. Any problem reading or writing it (a
read-only home, a corrupt entry) silently falls back to parsing.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ndx.lang.ast import Expr

_FORMAT = 2
"""Bump when what is pickled changes shape."""

_fingerprint: str | None = None


def _parser_fingerprint() -> str:
    """A hash of the parser's code and grammar: any change invalidates every entry."""
    global _fingerprint
    if _fingerprint is None:
        import ndx.grammar
        import ndx.lang

        digest = hashlib.sha256(f"format {_FORMAT}".encode())
        for package in (ndx.lang, ndx.grammar):
            folder = Path(package.__file__).parent  # type: ignore[arg-type]
            for source in sorted(folder.glob("*")):
                if source.suffix in (".py", ".lark"):
                    digest.update(source.name.encode())
                    digest.update(source.read_bytes())
        _fingerprint = digest.hexdigest()
    return _fingerprint


def _cache_dir() -> str:
    base = os.environ.get("NDX_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "ndx")
    return os.path.join(base, "ast")


def enabled() -> bool:
    """Whether the cache is in use (`NDX_PARSE_CACHE=0` turns it off)."""
    return os.environ.get("NDX_PARSE_CACHE", "1") != "0"


def _entry(path: str, text: str) -> str:
    key = hashlib.sha256(
        f"{_parser_fingerprint()}\0{path}\0{text}".encode("utf-8", "surrogatepass"))
    return os.path.join(_cache_dir(), key.hexdigest()[:32] + ".pickle")


def load(path: str, text: str) -> Expr | None:
    """The cached AST of `text` read from `path`, or None."""
    if not enabled():
        return None
    try:
        with open(_entry(path, text), "rb") as handle:
            return pickle.load(handle)  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - any unreadable entry just means "parse it"
        return None


def _reduce_by_constructor(node: object) -> tuple[object, tuple[object, ...]]:
    # Rebuild a node by calling its class with its fields: one C-level call into the
    # dataclass's generated __init__, much faster than the generic slotted-dataclass
    # __setstate__ (which looks up the fields again for every node).
    cls = type(node)
    return cls, tuple(getattr(node, name) for name in _FIELDS[cls])


_FIELDS: dict[type, tuple[str, ...]] = {}


def _dispatch_table() -> dict[type, Any]:
    import copyreg
    import dataclasses

    from ndx.lang import ast
    from ndx.lang.source import Span

    table: dict[type, Any] = dict(copyreg.dispatch_table)
    for cls in [Span, *vars(ast).values()]:
        if isinstance(cls, type) and dataclasses.is_dataclass(cls):
            fields = dataclasses.fields(cls)
            if all(f.init for f in fields):
                _FIELDS[cls] = tuple(f.name for f in fields)
                table[cls] = _reduce_by_constructor
    return table


def store(path: str, text: str, expr: Expr) -> None:
    """Remember the AST of `text` (best effort)."""
    if not enabled():
        return
    target = _entry(path, text)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.dispatch_table = _dispatch_table()
            pickler.dump(expr)
        os.replace(temporary, target)
    except (OSError, pickle.PicklingError, RecursionError):
        return
