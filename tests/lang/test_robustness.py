"""No input makes the parser fail with anything but a ParseError.

Random text, random bytes, real files cut short or mutated, and pathological nesting:
each either parses or raises ParseError — whose rendering names a position inside the
text — never another exception, a RecursionError or a crash.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ndx.lang import ParseError, parse, parse_file
from ndx.lang.ast import Node
from ndx.lang.dump import dump
from ndx.lang.errors import NdxError

from .fuzz_budget import examples

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "parse"
REAL_FILES = [p.read_text(encoding="utf-8") for p in sorted(GOLDEN.glob("okay-*.ndx"))]

# Characters that matter to the lexer and parser, to make random text interesting.
SYNTAX = list("{}[]()<>;:,.=?@!+-*/&|\"'$\\#~ \n\t\r0a") + ["${", "''", "/*", "*/", "//",
                                                           "...", "or", "let", "in", "rec"]


def check(text: str) -> None:
    """Parse `text`: a tree, or a ParseError that renders with a position in the text."""
    try:
        tree = parse(text, "fuzz.ndx", base_dir="/fuzz")
    except ParseError as exc:
        rendered = exc.render()
        assert rendered.startswith("fuzz.ndx:"), rendered
        assert 0 <= exc.span.start <= exc.span.end <= len(text)
        assert exc.span.line >= 1 and exc.span.column >= 1
        return
    assert isinstance(tree, Node)


@settings(max_examples=examples(500), deadline=None)
@given(st.text(max_size=60))
def test_random_text(text: str) -> None:
    check(text)


@settings(max_examples=examples(500), deadline=None)
@given(st.lists(st.sampled_from(SYNTAX), max_size=40).map("".join))
def test_random_syntax_soup(text: str) -> None:
    check(text)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REAL_FILES), st.data())
def test_mutated_real_files(text: str, data: st.DataObject) -> None:
    for _ in range(data.draw(st.integers(1, 3))):
        if not text:
            break
        where = data.draw(st.integers(0, len(text)))
        kind = data.draw(st.sampled_from(["cut", "delete", "insert", "duplicate"]))
        if kind == "cut":
            text = text[:where]
        elif kind == "delete":
            text = text[:where] + text[where + data.draw(st.integers(1, 5)):]
        elif kind == "insert":
            text = text[:where] + data.draw(st.sampled_from(SYNTAX)) + text[where:]
        else:
            text = text[:where] + text[where:where + 8] + text[where:]
    check(text)


def test_every_prefix_of_real_files() -> None:
    for text in REAL_FILES:
        for end in range(len(text) + 1):
            check(text[:end])


def test_random_bytes_through_parse_file(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "random.ndx"
    for _ in range(300):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        path.write_bytes(data)
        try:
            parse_file(str(path))
        except ParseError as exc:
            assert exc.render().startswith(f"{path}:")


def test_invalid_utf8_is_reported_at_its_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.ndx"
    path.write_bytes(b"{\n  name = \"caf\xc3\xa9 \xff\";\n}\n")
    with pytest.raises(ParseError) as caught:
        parse_file(str(path))
    assert caught.value.span.line == 2
    assert caught.value.span.column == 16
    assert "invalid UTF-8" in caught.value.render()
    assert "0xff" in caught.value.render()


def test_unreadable_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(NdxError, match="cannot read"):
        parse_file(str(tmp_path / "missing.ndx"))
    with pytest.raises(NdxError, match="cannot read"):
        parse_file(str(tmp_path))


DEEP = 20_000


@pytest.mark.parametrize("text", [
    "(" * DEEP + "1" + ")" * DEEP,
    "[" * DEEP + "]" * DEEP,
    "{ a = " * DEEP + "1" + "; }" * DEEP,
    "let a = 1; in " * DEEP + "a",
    "a: " * DEEP + "a",
    "!" * DEEP + "a",
    "-" * DEEP + "a",
    '"${' * DEEP + "1" + '}"' * DEEP,
    "''${" * DEEP + "1" + "}''" * DEEP,
    "{ " + "a." * DEEP + "b = 1; }",
    "x." + "a." * DEEP + "b",
    " + ".join(["1"] * DEEP * 5),
    "f " + "a " * DEEP * 5,
    "a ++ " * DEEP + "b",
    "{ " + ", ".join(f"a{i}" for i in range(DEEP)) + " }: 1",
    "(" * DEEP,
    "{" * DEEP,
    '"${' * DEEP,
], ids=["parens", "lists", "sets", "lets", "lambdas", "nots", "negations", "strings",
        "indented", "dotted-key", "select-path", "plus-chain", "application", "concat-chain",
        "formals", "open-parens", "open-braces", "open-strings"])
def test_deep_nesting_gives_a_tree_or_an_error(text: str) -> None:
    try:
        tree = parse(text)
    except ParseError as exc:
        assert "nested too deeply" in exc.message or "unexpected" in exc.message
        return
    try:
        dump(tree)
    except NdxError as exc:
        assert "nested too deeply" in str(exc)
