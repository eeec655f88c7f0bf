"""Path arithmetic as Nix does it: purely textual, never touching the file system."""

from __future__ import annotations

from ndx.lang.builder import canonical_path

__all__ = ["base_name_of", "canonical_path", "dir_of"]


def base_name_of(path: str) -> str:
    """Nix's `baseNameOf`: the last component, ignoring one trailing slash."""
    end = len(path)
    if end and path[end - 1] == "/":
        end -= 1
    start = path.rfind("/", 0, end)
    return path[start + 1:end]


def dir_of(path: str) -> str:
    """Nix's `dirOf`: everything before the last slash ("/" for a top-level path, "."
    when there is no slash)."""
    pos = path.rfind("/")
    if pos == -1:
        return "."
    return "/" if pos == 0 else path[:pos]
