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


class _Dumper:
    def __init__(self, width: int) -> None:
        self.width = width
        self.flat_cache: dict[int, str] = {}

    def flat(self, value: Any) -> str:
        """`value` on one line."""
        key = id(value)
        cached = self.flat_cache.get(key)
        if cached is not None:
            return cached
        if isinstance(value, Node):
            items = _fields(value)
            if len(items) == 1:
                text = f"{type(value).__name__}({self.flat(items[0][1])})"
            else:
                inner = ", ".join(f"{name}={self.flat(item)}" for name, item in items)
                text = f"{type(value).__name__}({inner})"
        elif isinstance(value, tuple):
            text = "[" + ", ".join(self.flat(item) for item in value) + "]"
        else:
            text = _scalar(value)
        if isinstance(value, (Node, tuple)):
            self.flat_cache[key] = text
        return text

    def layout(self, value: Any, indent: int, column: int | None = None) -> str:
        """`value` written at `column` on a line indented by `indent`, broken over lines
        (each nested level two spaces in) when it does not fit."""
        text = self.flat(value)
        start = indent if column is None else column
        if start + len(text) <= self.width or not isinstance(value, (Node, tuple)) \
                or (isinstance(value, tuple) and not value):
            return text
        pad = " " * (indent + 2)
        if isinstance(value, tuple):
            items = [pad + self.layout(item, indent + 2) for item in value]
            return "[\n" + ",\n".join(items) + ",\n" + " " * indent + "]"
        items = []
        for name, item in _fields(value):
            prefix = f"{name}="
            items.append(pad + prefix + self.layout(item, indent + 2, indent + 2 + len(prefix)))
        return f"{type(value).__name__}(\n" + ",\n".join(items) + ",\n" + " " * indent + ")"


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
