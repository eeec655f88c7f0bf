"""`toJSON` and `fromJSON`, byte for byte as Nix 2.8.

Writing: attributes sorted by name; a set with `__toString` is written as that string,
one with `outPath` as its `outPath`; paths are copied to the store (their store path is
written, and becomes context); floats print like C++ streams (`0.1`, `1e+20`, `inf`);
strings escape `"`, `\\`, `\\n`, `\\r`, `\\t` and other control characters as `\\u00XX`,
everything else raw. The result carries the context of every string in the value.

Reading follows Nix's JSON library: integers beyond 64 bits wrap if they fit 64 unsigned
bits and become floats otherwise; a float literal that overflows is an error; `\\u0000`
ends a string (Nix strings are C strings); NaN, comments and trailing commas are
rejected.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..coerce import coerce_to_string, expect_string_no_context
from ..context import EvalContext
from ..errors import EvalError, EvalTypeError
from ..operators import INT_MAX, INT_MIN
from ..printer import format_float
from ..values import (
    ContextString,
    Lambda,
    PathValue,
    PrimOp,
    PrimOpApp,
    Thunk,
    make_string,
    sorted_names,
)
from .registry import builtin

_JSON_ESCAPES = {i: f"\\u{i:04x}" for i in range(32)}
_JSON_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n",
                      ord("\r"): "\\r", ord("\t"): "\\t"})
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f]')


def json_string(text: str) -> str:
    """`text` as a JSON string literal, escaped the way Nix escapes it."""
    if _NEEDS_ESCAPE.search(text) is None:
        return f'"{text}"'
    return '"' + text.translate(_JSON_ESCAPES) + '"'


class _Writer:
    """Writes JSON into `out` as it goes (so what was written before an error is there).
    `forced_only`: refuse a part not evaluated yet (`nix-instantiate --eval --json`
    without `--strict`) instead of forcing it."""

    def __init__(self, ctx: EvalContext, out: list[str] | None = None,
                 forced_only: bool = False) -> None:
        self.ctx = ctx
        self.out: list[str] = [] if out is None else out
        self.context: set[str] = set()
        self.forced_only = forced_only

    def write(self, value: Any) -> None:
        if type(value) is Thunk:
            if self.forced_only and value.code is not None:
                raise EvalError("cannot convert a thunk to JSON", value.span)
            value = value.force()
        t = type(value)
        out = self.out
        if t is str:
            out.append(json_string(value))
        elif t is int:
            out.append(str(value))
        elif value is True:
            out.append("true")
        elif value is False:
            out.append("false")
        elif value is None:
            out.append("null")
        elif t is float:
            out.append(format_float(value))
        elif t is ContextString:
            self.context |= value.context
            out.append(json_string(value.text))
        elif t is list:
            out.append("[")
            try:
                first = True
                for item in value:
                    if not first:
                        out.append(",")
                    first = False
                    self.write(item)
            finally:
                out.append("]")  # also on an error, as Nix's writer closes it
        elif t is dict:
            self.write_attrs(value)
        elif t is PathValue:
            store_path = self.ctx.copy_path_to_store(value.path)
            self.context.add(store_path)
            out.append(json_string(store_path))
        elif t is Lambda:
            raise EvalTypeError("cannot convert a function to JSON")
        elif t is PrimOp or t is PrimOpApp:
            name = value.name if t is PrimOp else value.primop.name
            raise EvalTypeError(f"cannot convert the built-in function '{name}' to JSON")
        else:
            raise AssertionError(f"not an ndx value: {value!r}")

    def write_attrs(self, attrs: dict[str, Any]) -> None:
        if "__toString" in attrs:
            text = coerce_to_string(attrs, self.ctx, copy_to_store=False)
            if type(text) is ContextString:
                self.context |= text.context
                text = text.text
            self.out.append(json_string(text))  # type: ignore[arg-type]
            return
        out_path = attrs.get("outPath")
        if out_path is not None:
            self.write(out_path)
            return
        out = self.out
        out.append("{")
        try:
            first = True
            for name in sorted_names(attrs):
                if not first:
                    out.append(",")
                first = False
                out.append(json_string(name))
                out.append(":")
                try:
                    self.write(attrs[name])
                except EvalError as error:
                    error.add_frame(f"while evaluating attribute '{name}'", None)
                    raise
        finally:
            out.append("}")  # also on an error, as Nix's writer closes it


def to_json_text(ctx: EvalContext, value: Any) -> tuple[str, frozenset[str]]:
    """`value` (forced deeply as it goes) written as Nix writes JSON, and the context of
    the strings in it."""
    writer = _Writer(ctx)
    writer.write(value)
    return "".join(writer.out), frozenset(writer.context)


def write_json(ctx: EvalContext, value: Any, out: list[str], *, strict: bool) -> None:
    """`value` written as JSON into `out` piece by piece, as `nix-instantiate --eval
    --json` streams it: an error part-way leaves the beginning in `out`. Without
    `strict`, a part not evaluated yet is an error ("cannot convert a thunk")."""
    _Writer(ctx, out, forced_only=not strict).write(value)


@builtin("toJSON", 1, context=True)
def to_json(ctx: EvalContext, value: Any) -> Any:
    """Return a value as a JSON string (sets sorted by name, derivations as their
    `outPath`, paths copied to the store)."""
    text, context = to_json_text(ctx, value)
    return make_string(text, context)


# ---------------------------------------------------------------------------- reading

_UINT64_LIMIT = 1 << 64
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SUSPICIOUS = re.compile(r"\\u(?:0000|[dD][89a-fA-F])|[\udc80-\udcff]")


def _parse_int(text: str) -> int | float:
    value = int(text)
    if INT_MIN <= value <= INT_MAX:
        return value
    if 0 < value < _UINT64_LIMIT:
        return value - _UINT64_LIMIT  # an unsigned 64-bit integer, stored as signed
    return float(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _JsonError(f"number overflow parsing '{text}'")
    return value


def _reject_constant(text: str) -> Any:
    raise _JsonError(f"invalid literal '{text}'")


class _JsonError(ValueError):
    pass


_DECODER = json.JSONDecoder(parse_float=_parse_float, parse_int=_parse_int,
                            parse_constant=_reject_constant)


def _clean_string(text: str) -> str:
    for c in text:
        if "\ud800" <= c <= "\udfff":
            raise _JsonError("invalid string: a surrogate escape must be part of a pair, "
                             "and the text must be valid UTF-8")
    nul = text.find("\x00")
    return text if nul < 0 else text[:nul]


def _clean(value: Any) -> Any:
    """Check and fix the strings of a parsed document (lone surrogates are errors, NUL
    ends a string), iteratively."""
    if type(value) is str:
        return _clean_string(value)
    root = [value]
    stack: list[Any] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        t = type(item)
        if t is str:
            container[key] = _clean_string(item)
        elif t is list:
            stack.extend((item, i) for i in range(len(item)))
        elif t is dict:
            for name in list(item):
                clean = _clean_string(name)
                if clean != name:
                    item[clean] = item.pop(name)
                stack.append((item, clean))
    return root[0]


def _whitespace_end(text: str, position: int) -> int:
    match = _WHITESPACE.match(text, position)
    return position if match is None else match.end()


def parse_json(text: str) -> Any:
    """The ndx value of a JSON document (EvalError when it is not valid JSON)."""
    text = text.removeprefix("\ufeff")  # Nix's JSON reader skips a byte-order mark
    try:
        value, end = _DECODER.raw_decode(text, _whitespace_end(text, 0))
        end = _whitespace_end(text, end)
        if end != len(text):
            raise json.JSONDecodeError("unexpected text after the value", text, end)
        if _SUSPICIOUS.search(text):
            value = _clean(value)
    except json.JSONDecodeError as error:
        raise EvalError(f"while parsing JSON: {error.msg} at line {error.lineno}, column "
                        f"{error.colno}") from None
    except _JsonError as error:
        raise EvalError(f"while parsing JSON: {error}") from None
    except RecursionError:
        raise EvalError("while parsing JSON: the document is nested too deeply") from None
    return value


@builtin("fromJSON", 1)
def from_json(s: Any) -> Any:
    """Parse a JSON string into a value: objects become sets, arrays lists."""
    return parse_json(expect_string_no_context(s, "the argument of 'fromJSON'"))
