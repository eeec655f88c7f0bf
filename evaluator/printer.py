"""Printing values exactly as `nix-instantiate --eval` prints them.

    >>> print_value({"a": 1, "b": [1, "x\\n"]})
    '{ a = 1; b = [ 1 "x\\\\n" ]; }'

The rules, all Nix 2.8's:
* sets print their attributes sorted by name, `{ a = 1; }`, `{ }` when empty; a name is
  quoted unless it is a plain identifier (and `if` is always quoted);
* lists print `[ 1 2 ]`, `[ ]` when empty;
* a non-empty set or list that was already printed once prints `«repeated»` (sharing,
  not only cycles, as Nix does);
* strings escape `"`, `\\`, newline, carriage return, tab and `${`;
* floats print like C++'s default stream format (`%g`: 6 significant digits);
* an unevaluated thunk prints `<CODE>`, functions `<LAMBDA>`, builtins `<PRIMOP>` and
  partially applied builtins `<PRIMOP-APP>`.

Printing never forces anything: `--strict` deep-forces first (`runtime.force_deep`).
The printer is iterative, so deeply nested data cannot exhaust the Python stack.
"""

from __future__ import annotations

import math
from typing import Any

from .values import ContextString, Lambda, PathValue, PrimOp, PrimOpApp, Thunk, sorted_names

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_string(text: str, *, every_dollar: bool = False) -> str:
    """`text` as a Nix string literal, escaped the way Nix prints strings: a `$` only
    before `{`, or every `$` (`every_dollar`, how Nix 2.8 quotes attribute names)."""
    if not any(c in text for c in '"\\\n\r\t$'):
        return f'"{text}"'
    out = ['"']
    n = len(text)
    for i, c in enumerate(text):
        esc = _ESCAPES.get(c)
        if esc is not None:
            out.append(esc)
        elif c == "$" and (every_dollar or (i + 1 < n and text[i + 1] == "{")):
            out.append("\\$")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _is_identifier_char(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or ("0" <= c <= "9") or c in "_'-"


def format_attr_name(name: str) -> str:
    """An attribute name as Nix prints it: bare when it is an identifier, else quoted
    (with every `$` escaped)."""
    if not name or name == "if":
        return quote_string(name)
    first = name[0]
    if not (("a" <= first <= "z") or ("A" <= first <= "Z") or first == "_"):
        return quote_string(name, every_dollar=True)
    if all(_is_identifier_char(c) for c in name):
        return name
    return quote_string(name, every_dollar=True)


def format_float(value: float) -> str:
    """A float as C++'s `ostream << double` writes it (what Nix prints)."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:g}"


def format_scalar(value: Any) -> str | None:
    """The printed form of a value that has no parts, or None for sets and lists."""
    t = type(value)
    if t is int:
        return str(value)
    if t is str:
        return quote_string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if t is float:
        return format_float(value)
    if t is ContextString:
        return quote_string(value.text)
    if t is PathValue:
        return str(value.path)
    if t is Lambda:
        return "<LAMBDA>"
    if t is PrimOp:
        return "<PRIMOP>"
    if t is PrimOpApp:
        return "<PRIMOP-APP>"
    if t is Thunk:
        if value.code is not None:
            return "<CODE>"
        inner: str | None = format_scalar(value.value)
        return inner
    return None


def print_value(value: Any, *, max_length: int | None = None) -> str:
    """`value` printed as `nix-instantiate --eval` prints it, forcing nothing.

    With `max_length`, output is cut after about that many characters (ending in "…"),
    which keeps error messages about huge values short."""
    out: list[str] = []
    size = 0
    seen: set[int] = set()
    # A stack of items to emit, in reverse order: a value, or a literal string.
    stack: list[Any] = [value]
    literal = _Literal
    while stack:
        item = stack.pop()
        if type(item) is literal:
            text = item.text
        else:
            if type(item) is Thunk and item.code is None:
                item = item.value
            t = type(item)
            if t is dict:
                if not item:
                    text = "{ }"
                elif id(item) in seen:
                    text = "«repeated»"
                else:
                    seen.add(id(item))
                    text = "{ "
                    stack.append(_CLOSE_SET)
                    for name in sorted_names(item, reverse=True):
                        stack.append(_SEMI)
                        stack.append(item[name])
                        stack.append(literal(format_attr_name(name) + " = "))
            elif t is list:
                if not item:
                    text = "[ ]"
                elif id(item) in seen:
                    text = "«repeated»"
                else:
                    seen.add(id(item))
                    text = "[ "
                    stack.append(_CLOSE_LIST)
                    for element in reversed(item):
                        stack.append(_SPACE)
                        stack.append(element)
            else:
                scalar = format_scalar(item)
                if scalar is None:
                    raise AssertionError(f"not an ndx value: {item!r}")
                text = scalar
        out.append(text)
        size += len(text)
        if max_length is not None and size > max_length:
            return "".join(out)[:max_length] + "…"
    return "".join(out)


class _Literal:
    """Text to emit as is (distinguishes printer output from string values on the stack)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_CLOSE_SET = _Literal("}")
_CLOSE_LIST = _Literal("]")
_SEMI = _Literal("; ")
_SPACE = _Literal(" ")


def describe_value(value: Any, limit: int = 60) -> str:
    """A short rendering of `value` for error messages (`[ 1 2 ]`, `{ a = 1; … }`)."""
    return print_value(value, max_length=limit)
