"""Version strings as Nix reads them: `splitVersion`, `compareVersions`, `parseDrvName`.

A version is a sequence of components: runs of digits, or runs of other characters;
`.` and `-` only separate (`_` and `+` do not). Components compare as numbers when both
are numbers that fit a C `int`, and otherwise by Nix's special cases: the empty component
(a missing one) is older than any number, `pre` is older than anything else, any number is
newer than any word ("2.3a" < "2.3.1"), and two words compare byte-wise.
"""

from __future__ import annotations

_INT_MAX = (1 << 31) - 1


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _components(version: str) -> list[str]:
    """All components of `version`, in order (what `splitVersion` returns)."""
    out: list[str] = []
    i = 0
    n = len(version)
    while True:
        while i < n and version[i] in ".-":
            i += 1
        if i >= n:
            return out
        start = i
        if _is_digit(version[i]):
            while i < n and _is_digit(version[i]):
                i += 1
        else:
            while i < n and not _is_digit(version[i]) and version[i] not in ".-":
                i += 1
        out.append(version[start:i])


def split_version(version: str) -> list[str]:
    """`builtins.splitVersion`: "1.2.3pre4" → ["1", "2", "3", "pre", "4"]."""
    return _components(version)


def _as_int(component: str) -> int | None:
    """The component as a C `int` (Nix's `string2Int<int>`), None when it is not one."""
    if not component or not component.isascii() or not component.isdigit():
        return None
    value = int(component)
    return value if value <= _INT_MAX else None


def _byte_key(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def component_less(c1: str, c2: str) -> bool:
    """Nix's `componentsLT`."""
    n1 = _as_int(c1)
    n2 = _as_int(c2)
    if n1 is not None and n2 is not None:
        return n1 < n2
    if c1 == "" and n2 is not None:
        return True
    if c1 == "pre" and c2 != "pre":
        return True
    if c2 == "pre":
        return False
    if n2 is not None:
        return True
    if n1 is not None:
        return False
    return _byte_key(c1) < _byte_key(c2)


def compare_versions(v1: str, v2: str) -> int:
    """`builtins.compareVersions`: -1, 0 or 1. Missing components compare as ""."""
    a = _components(v1)
    b = _components(v2)
    for i in range(max(len(a), len(b))):
        c1 = a[i] if i < len(a) else ""
        c2 = b[i] if i < len(b) else ""
        if component_less(c1, c2):
            return -1
        if component_less(c2, c1):
            return 1
    return 0


def parse_drv_name(name: str) -> tuple[str, str]:
    """`builtins.parseDrvName`: split at the first `-` not followed by a letter.
    "nix-0.12pre12876" → ("nix", "0.12pre12876"); no such dash → (name, "")."""
    n = len(name)
    for i, c in enumerate(name):
        if c == "-" and i + 1 < n and not ("a" <= name[i + 1] <= "z" or
                                           "A" <= name[i + 1] <= "Z"):
            return name[:i], name[i + 1:]
    return name, ""
