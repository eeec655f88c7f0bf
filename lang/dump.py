"""Readable and JSON forms of the AST, for `ndx parse`, golden tests and debugging.

`dump` writes nodes as constructor calls (`BinOp(+, Int(1), Var('x'))`-like, with field
names), one line when it fits in `width` columns, else one field per line. `to_json`
gives plain dicts with a `"type"` and, optionally, the span as
`[line, column, end_line, end_column]`.
"""

from __future__ import annotations

import enum
from dataclasses import fields
from typing import Any

from .ast import Node
from .deep import deep

_WIDTH = 88


def dump(expr: Node, width: int = _WIDTH) -> str:
    """The AST as indented constructor calls (spans left out)."""
    return deep(_Dumper(width).layout, expr, 0, what="dump")


def to_json(expr: Node, spans: bool = True) -> Any:
    """The AST as JSON-ready data."""
    return deep(_json, expr, spans, what="dump")


def _fields(node: Node) -> list[tuple[str, Any]]:
    return [(f.name, getattr(node, f.name)) for f in fields(node)  # type: ignore[arg-type]
            if f.name != "span"]


def _scalar(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    return repr(value)


# Indentation stops growing here, so the dump of a very deep tree stays linear in size.
_MAX_INDENT = 64


class _Dumper:
    def __init__(self, width: int) -> None:
        self.width = width
        self.lengths: dict[int, int] = {}

    def flat_length(self, value: Any) -> int:
        """The length of `flat(value)`, or more than the width when it is longer (then
        the exact figure is not worked out)."""
        if not isinstance(value, (Node, tuple)):
            return len(_scalar(value))
        key = id(value)
        known = self.lengths.get(key)
        if known is not None:
            return known
        limit = self.width + 1
        if isinstance(value, tuple):
            total = 2 + 2 * max(0, len(value) - 1)
            items: list[Any] = list(value)
        else:
            pairs = _fields(value)
            total = len(type(value).__name__) + 2
            if len(pairs) == 1:
                items = [pairs[0][1]]
            else:
                total += sum(len(name) + 1 for name, _ in pairs) + 2 * (len(pairs) - 1)
                items = [item for _, item in pairs]
        for item in items:
            if total > limit:
                break
            total += self.flat_length(item)
        total = min(total, limit)
        self.lengths[key] = total
        return total

    def flat(self, value: Any) -> str:
        """`value` on one line."""
        if isinstance(value, Node):
            items = _fields(value)
            if len(items) == 1:
                return f"{type(value).__name__}({self.flat(items[0][1])})"
            inner = ", ".join(f"{name}={self.flat(item)}" for name, item in items)
            return f"{type(value).__name__}({inner})"
        if isinstance(value, tuple):
            return "[" + ", ".join(self.flat(item) for item in value) + "]"
        return _scalar(value)

    def layout(self, value: Any, indent: int) -> str:
        """`value` written on a line indented by `indent`, broken over lines (each nested
        level two spaces in) when it does not fit."""
        out: list[str] = []
        self._write(value, indent, indent, out)
        return "".join(out)

    def _write(self, value: Any, indent: int, column: int, out: list[str]) -> None:
        # Appends to `out` rather than returning strings: nested returns would copy the
        # text of every level once per level above it.
        if (not isinstance(value, (Node, tuple)) or (isinstance(value, tuple) and not value)
                or column + self.flat_length(value) <= self.width):
            out.append(self.flat(value))
            return
        inner = min(indent + 2, _MAX_INDENT)
        pad = " " * inner
        if isinstance(value, tuple):
            out.append("[\n")
            for item in value:
                out.append(pad)
                self._write(item, inner, inner, out)
                out.append(",\n")
            out.append(" " * indent + "]")
            return
        out.append(f"{type(value).__name__}(\n")
        for name, item in _fields(value):
            out.append(f"{pad}{name}=")
            self._write(item, inner, inner + len(name) + 1, out)
            out.append(",\n")
        out.append(" " * indent + ")")


def _json(value: Any, spans: bool) -> Any:
    if isinstance(value, Node):
        out: dict[str, Any] = {"type": type(value).__name__}
        if spans:
            span = value.span
            out["span"] = [span.line, span.column, span.end_line, span.end_column]
        for name, item in _fields(value):
            out[name] = _json(item, spans)
        return out
    if isinstance(value, tuple):
        return [_json(item, spans) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value
