"""Arithmetic, comparison and bit operations: `add sub mul div lessThan bitAnd bitOr
bitXor ceil floor`.

Integers are 64-bit and wrap around as Nix 2.8's do; when either operand is a float the
result is a float. `ceil` and `floor` go through a double, and a result outside the
64-bit range (or NaN, infinity) becomes the minimum integer, which is what the C++
conversion yields on x86-64.
"""

from __future__ import annotations

import math
from typing import Any

from ..coerce import expect_float, expect_int
from ..errors import EvalError
from ..operators import INT_MAX, INT_MIN, less_than, wrap_int
from ..values import Thunk
from .registry import builtin


def _forced(value: Any) -> Any:
    return value.force() if type(value) is Thunk else value


def _operands(a: Any, b: Any, name: str) -> tuple[Any, Any, bool]:
    """Both operands forced, as numbers of one kind: (x, y, is_float)."""
    a = _forced(a)
    b = _forced(b)
    if type(a) is float or type(b) is float:
        return (expect_float(a, f"the first argument of '{name}'"),
                expect_float(b, f"the second argument of '{name}'"), True)
    return (expect_int(a, f"the first argument of '{name}'"),
            expect_int(b, f"the second argument of '{name}'"), False)


@builtin("add", 2)
def add(a: Any, b: Any) -> int | float:
    """Return the sum of the numbers `a` and `b`."""
    if type(a) is int and type(b) is int:
        return wrap_int(a + b)
    x, y, is_float = _operands(a, b, "add")
    return x + y if is_float else wrap_int(x + y)


@builtin("sub", 2)
def sub(a: Any, b: Any) -> int | float:
    """Return the difference `a - b` of two numbers."""
    if type(a) is int and type(b) is int:
        return wrap_int(a - b)
    x, y, is_float = _operands(a, b, "sub")
    return x - y if is_float else wrap_int(x - y)


@builtin("mul", 2)
def mul(a: Any, b: Any) -> int | float:
    """Return the product of the numbers `a` and `b`."""
    if type(a) is int and type(b) is int:
        return wrap_int(a * b)
    x, y, is_float = _operands(a, b, "mul")
    return x * y if is_float else wrap_int(x * y)


@builtin("div", 2)
def div(a: Any, b: Any) -> int | float:
    """Return the quotient `a / b`; integer division truncates toward zero."""
    a = _forced(a)
    b = _forced(b)
    if expect_float(b, "the second argument of 'div'") == 0:
        raise EvalError("division by zero")
    x, y, is_float = _operands(a, b, "div")
    if is_float:
        return float(x) / float(y)
    if x == INT_MIN and y == -1:
        raise EvalError("overflow in integer division")
    q = int(abs(x) // abs(y))
    return q if (x < 0) == (y < 0) else -q


@builtin("lessThan", 2)
def less_than_(a: Any, b: Any) -> bool:
    """Return whether `a < b` (numbers, strings, paths, or lists compared element-wise)."""
    a = _forced(a)
    b = _forced(b)
    if type(a) is int and type(b) is int:
        return a < b
    return less_than(a, b)


def _bits(a: Any, b: Any, name: str) -> tuple[int, int]:
    if type(a) is Thunk:
        a = a.force()
    if type(b) is Thunk:
        b = b.force()
    if type(a) is int and type(b) is int:
        return a, b
    return (expect_int(a, f"the first argument of '{name}'"),
            expect_int(b, f"the second argument of '{name}'"))


@builtin("bitAnd", 2)
def bit_and(a: Any, b: Any) -> int:
    """Return the bitwise AND of two integers."""
    if type(a) is int and type(b) is int:
        return a & b
    x, y = _bits(a, b, "bitAnd")
    return x & y


@builtin("bitOr", 2)
def bit_or(a: Any, b: Any) -> int:
    """Return the bitwise OR of two integers."""
    x, y = _bits(a, b, "bitOr")
    return x | y


@builtin("bitXor", 2)
def bit_xor(a: Any, b: Any) -> int:
    """Return the bitwise exclusive OR of two integers."""
    x, y = _bits(a, b, "bitXor")
    return x ^ y


def _to_int(x: float) -> int:
    """A double converted to a 64-bit integer the way x86-64 does it."""
    if math.isnan(x) or math.isinf(x):
        return INT_MIN
    n = int(x)
    return n if INT_MIN <= n <= INT_MAX else INT_MIN


@builtin("ceil", 1)
def ceil(x: Any) -> int:
    """Round the number `x` up to the nearest integer (an integer argument is converted
    to a float first)."""
    value = expect_float(x, "the argument of 'ceil'")
    return _to_int(math.ceil(value)) if math.isfinite(value) else INT_MIN


@builtin("floor", 1)
def floor(x: Any) -> int:
    """Round the number `x` down to the nearest integer (an integer argument is converted
    to a float first)."""
    value = expect_float(x, "the argument of 'floor'")
    return _to_int(math.floor(value)) if math.isfinite(value) else INT_MIN
