"""The search path: `<name>` lookups (`-I name=path`, `NDX_PATH`), as Nix's `findFile`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .errors import ThrownError
from .paths import canonical_path

if TYPE_CHECKING:
    from .context import EvalContext


def find_in_search_path(ctx: EvalContext, entries: list[tuple[str, str]],
                        name: str) -> str | None:
    """The first existing file or directory `name` denotes under the entries (each a
    (prefix, path) pair: prefix "" matches any name; prefix "p" matches "p" and "p/…"),
    or None."""
    for prefix, base in entries:
        if not prefix:
            suffix = "/" + name
        else:
            if not name.startswith(prefix) or (len(name) > len(prefix)
                                               and name[len(prefix)] != "/"):
                continue
            suffix = "" if len(name) == len(prefix) else "/" + name[len(prefix) + 1:]
        if "://" in base:
            continue  # URLs would need a download; ndx never fetches while evaluating
        root = base if os.path.isabs(base) else os.path.abspath(base)
        candidate = root + suffix
        if os.path.exists(ctx.host_path(candidate)):
            return canonical_path(candidate)
    return None


def find_file(ctx: EvalContext, entries: list[tuple[str, str]], name: str) -> str:
    """Like `find_in_search_path`, but a missing name is an error (catchable by
    `tryEval`, as in Nix)."""
    found = find_in_search_path(ctx, entries, name)
    if found is None and ctx.fallback_search_path:
        found = find_in_search_path(ctx, ctx.fallback_search_path, name)
    if found is None:
        raise ThrownError(f"file '{name}' was not found in the search path (add it using "
                          "-I or $NDX_PATH)")
    return found
