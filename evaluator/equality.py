"""Deep equality (`==`), with Nix 2.8's rules.

* integers and floats compare numerically across the two types (`1 == 1.0`);
* strings compare by characters (context is ignored), paths by text;
* lists and sets compare element by element, forcing as they go; two sets that are both
  derivations (`type = "derivation"`) compare by `outPath` alone;
* functions are never equal — except that Nix compares an element or attribute with
  itself as equal without looking at it (a pointer test), so `[ f ] == [ f ]` is true
  for a function `f` while `f == f` is false. We follow this by treating the very same
  element object (a Thunk or value shared by both sides), once forced, as equal.
"""

from __future__ import annotations

from typing import Any

from .values import ContextString, Lambda, PathValue, PrimOp, PrimOpApp, Thunk


def values_equal(a: Any, b: Any) -> bool:
    """Whether two values (or Thunks) are equal as `builtins.elem` and friends see it:
    both are forced, and the very same object is then equal to itself (even a
    function)."""
    same = a is b
    if type(a) is Thunk:
        a = a.force()
    if type(b) is Thunk:
        b = b.force()
    if same:
        # Nix forces both sides first, then treats one value as equal to itself.
        return True
    return equal_forced(a, b)


def equal_forced(a: Any, b: Any) -> bool:
    """Whether two forced values are equal, as the `==` operator sees them (no identity
    shortcut at the top level: `f == f` is false for a function)."""
    ta = type(a)
    tb = type(b)
    if ta is not tb:
        if ta is int and tb is float or ta is float and tb is int:
            return float(a) == float(b)  # as C++ compares them (int converted to double)
        if (ta is str or ta is ContextString) and (tb is str or tb is ContextString):
            return _text(a) == _text(b)
        return False
    if ta is int or ta is str or ta is float or ta is bool:
        return a == b  # type: ignore[no-any-return]
    if a is None:
        return True
    if ta is list:
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if not values_equal(x, y):
                return False
        return True
    if ta is dict:
        return _sets_equal(a, b)
    if ta is ContextString:
        return a.text == b.text  # type: ignore[no-any-return]
    if ta is PathValue:
        return a.path == b.path  # type: ignore[no-any-return]
    if ta is Lambda or ta is PrimOp or ta is PrimOpApp:
        return False
    raise AssertionError(f"not an ndx value: {a!r}")


def _text(s: Any) -> str:
    return s if type(s) is str else s.text


def _is_derivation(attrs: dict[str, Any]) -> bool:
    kind = attrs.get("type")
    if kind is None:
        return False
    kind = kind.force() if type(kind) is Thunk else kind
    return (type(kind) is str and kind == "derivation") or (
        type(kind) is ContextString and kind.text == "derivation")


def _sets_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if _is_derivation(a) and _is_derivation(b):
        out_a = a.get("outPath")
        out_b = b.get("outPath")
        if out_a is not None and out_b is not None:
            return values_equal(out_a, out_b)
    if len(a) != len(b):
        return False
    for name in a:
        if name not in b:
            return False
    for name, x in a.items():
        if not values_equal(x, b[name]):
            return False
    return True
