"""Every node carries the span of its source text."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from ndx.lang import parse
from ndx.lang.ast import AttrSet, Binding, BinOp, Lambda, Node, Select, Var

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "parse"


def nodes(tree: Node) -> list[Node]:
    found = []
    pending: list[object] = [tree]
    while pending:
        value = pending.pop()
        if isinstance(value, Node):
            found.append(value)
            pending.extend(getattr(value, f.name) for f in fields(value) if f.name != "span")
        elif isinstance(value, tuple):
            pending.extend(value)
    return found


def text_of(source: str, node: Node) -> str:
    return source[node.span.start:node.span.end]


def test_spans_point_at_the_source() -> None:
    source = "let\n  f = x: x + 1;\n  s = { a.b = f 2; };\nin s.a.b\n"
    tree = parse(source, "s.ndx")
    by_text: dict[str, dict[type, Node]] = {}
    for node in nodes(tree):
        by_text.setdefault(text_of(source, node), {})[type(node)] = node
    assert Lambda in by_text["x: x + 1"]
    assert Select in by_text["s.a.b"]
    assert AttrSet in by_text["{ a.b = f 2; }"]
    plus = by_text["x + 1"][BinOp]
    assert (plus.span.line, plus.span.column, plus.span.end_line, plus.span.end_column) == \
        (2, 10, 2, 15)
    assert str(tree.span) == "s.ndx:1:1"


def test_binding_spans_point_at_their_keys() -> None:
    source = "{ a.b = 1; inherit c; }"
    tree = parse(source)
    bindings = [n for n in nodes(tree) if type(n) is Binding]
    assert sorted(text_of(source, b) for b in bindings) == ["a", "b", "c"]


def test_every_span_lies_inside_the_text() -> None:
    for case in sorted(GOLDEN.glob("okay-*.ndx")):
        source = case.read_text(encoding="utf-8")
        for node in nodes(parse(source, case.name, base_dir="/golden")):
            span = node.span
            assert 0 <= span.start <= span.end <= len(source), (case.name, node)
            if type(node) is Var and node.name != "or":
                assert text_of(source, node) == node.name
