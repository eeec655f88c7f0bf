"""The operators' semantics on forced values, shared by compiled code and builtins.

Integers are 64-bit two's complement and wrap on overflow, as Nix 2.8's do (`+`, `-`,
`*`); division truncates toward zero and `INT_MIN / -1` is an error. Mixed int/float
arithmetic gives a float. `add` is Nix's `+`: numbers add, and a string or path on the
left concatenates (a path result when the left side is a path).

The builtins `add`, `sub`, `mul`, `div` and `lessThan` use these same functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .coerce import coerce_to_string, show_type, type_error
from .equality import values_equal
from .errors import EvalError
from .paths import canonical_path
from .values import ContextString, PathValue, Thunk, concat_text, has_escape, text_bytes

if TYPE_CHECKING:
    from .context import EvalContext

INT_MIN = -(1 << 63)
INT_MAX = (1 << 63) - 1


def wrap_int(n: int) -> int:
    """`n` reduced to a 64-bit signed integer (two's complement wrap-around)."""
    if INT_MIN <= n <= INT_MAX:
        return n
    return ((n + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63)


def _force(v: Any) -> Any:
    return v.force() if type(v) is Thunk else v


# ------------------------------------------------------------------ arithmetic


def add(a: Any, b: Any, ctx: EvalContext | None) -> Any:
    """`a + b` on forced values: numbers, or string/path concatenation."""
    ta = type(a)
    tb = type(b)
    if ta is int:
        if tb is int:
            return wrap_int(a + b)
        if tb is float:
            return a + b
        raise EvalError(f"cannot add {show_type(b)} to an integer")
    if ta is float:
        if tb is int or tb is float:
            return a + b
        raise EvalError(f"cannot add {show_type(b)} to a float")
    if ta is PathValue:
        right = coerce_to_string(b, ctx, copy_to_store=False)
        if type(right) is ContextString:
            raise EvalError("a string that refers to a store path cannot be appended to a "
                            "path")
        return PathValue(canonical_path(a.path + right))
    if ta is str and tb is str:
        return concat_text(a, b)
    left = coerce_to_string(a, ctx)
    right = coerce_to_string(b, ctx)
    return concat_strings(left, right)


def concat_strings(left: Any, right: Any) -> Any:
    """Two string values concatenated, contexts united."""
    if type(left) is str:
        if type(right) is str:
            return concat_text(left, right)
        return ContextString(concat_text(left, right.text), right.context)
    if type(right) is str:
        return ContextString(concat_text(left.text, right), left.context)
    return ContextString(concat_text(left.text, right.text), left.context | right.context)


def _numbers(a: Any, b: Any, op: str) -> None:
    """Raise the type error for a non-number operand of an arithmetic operator."""
    expected = "a float" if (type(a) is float or type(b) is float) else "an integer"
    ta = type(a)
    bad = b if (ta is int or ta is float) else a
    raise type_error(expected, bad, f"an operand of '{op}'")


def sub(a: Any, b: Any) -> Any:
    """`a - b` on forced values."""
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int:
        return wrap_int(a - b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return float(a) - float(b)
    _numbers(a, b, "-")


def mul(a: Any, b: Any) -> Any:
    """`a * b` on forced values."""
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int:
        return wrap_int(a * b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return float(a) * float(b)
    _numbers(a, b, "*")


def div(a: Any, b: Any) -> Any:
    """`a / b` on forced values: integer division truncates toward zero."""
    ta = type(a)
    tb = type(b)
    if not ((ta is int or ta is float) and (tb is int or tb is float)):
        _numbers(a, b, "/")
    if b == 0:
        raise EvalError("division by zero")
    if ta is int and tb is int:
        if a == INT_MIN and b == -1:
            raise EvalError("overflow in integer division")
        q = abs(a) // abs(b)
        return q if (a < 0) == (b < 0) else -q
    return float(a) / float(b)


def negate(a: Any) -> Any:
    """`-a` (Nix: `0 - a`)."""
    return sub(0, a)


# ------------------------------------------------------------------ comparison


def less_than(a: Any, b: Any) -> bool:
    """`a < b` on forced values: numbers, strings, paths, and lists lexicographically."""
    ta = type(a)
    tb = type(b)
    if ta is int or ta is float:
        if tb is ta:
            return a < b  # type: ignore[no-any-return]
        if tb is int or tb is float:
            return float(a) < float(b)  # int converted to double, as in C++
    elif ta is str or ta is ContextString:
        if tb is str or tb is ContextString:
            return _text_less((a if ta is str else a.text),
                              (b if tb is str else b.text))
    elif ta is PathValue:
        if tb is PathValue:
            return a.path < b.path  # type: ignore[no-any-return]
    elif ta is list and tb is list:
        for x, y in zip(a, b, strict=False):
            if not values_equal(x, y):
                return less_than(_force(x), _force(y))
        return len(a) < len(b)
    raise EvalError(f"cannot compare {show_type(a)} with {show_type(b)}")


def _text_less(x: str, y: str) -> bool:
    """Byte order of two strings, as Nix compares them. Code point order is UTF-8 byte
    order, except for the surrogate escapes that stand for bytes that are not UTF-8:
    those are compared as their bytes."""
    if x.isascii() or y.isascii() or not (has_escape(x) or has_escape(y)):
        return x < y
    return text_bytes(x) < text_bytes(y)


# --------------------------------------------------------------- lists and sets


def concat_lists(a: list[Any], b: list[Any]) -> list[Any]:
    """`a ++ b`. When one side is empty Nix returns the other list itself, which shares
    its elements — except a list of one or two elements, which Nix stores inline and so
    copies (visible only in how `«repeated»` prints)."""
    if not a:
        return b if len(b) > 2 else b.copy()
    if not b:
        return a if len(a) > 2 else a.copy()
    return a + b


def update(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """`a // b`: b's attributes win; an empty side returns the other itself."""
    if not b:
        return a
    if not a:
        return b
    return {**a, **b}
