"""Path arithmetic as Nix does it: purely textual, never touching the file system."""

from __future__ import annotations


def canonical_path(path: str) -> str:
    """Nix's `canonPath`: an absolute path with `.`, `..`, repeated and trailing slashes
    removed (symbolic links are not resolved). `path` must be absolute."""
    if "//" not in path and "/." not in path and (len(path) == 1 or not path.endswith("/")):
        return path
    parts: list[str] = []
    for part in path.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


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
