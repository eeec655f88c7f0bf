"""When REPL input is finished: the parser's `incomplete` flag (premature end of input)
and the split into bindings, commands and expressions."""

from __future__ import annotations

import pytest

from ndx.cli.repl.reader import classify, is_incomplete
from ndx.lang import ParseError, parse


@pytest.mark.parametrize("text", [
    "let x = 1;", "{ a = 1;", "[ 1 2", "( 1 +", '"abc', '"a ${ b', "''abc", "''a ${",
    "/* comment", "1 +", "x:", "if a then b", "a.", "{ inherit", "let", "assert x;",
    "with x;", "rec {", "# only a comment", "f (x:",
])
def test_unfinished_text_is_a_parse_error_marked_incomplete(text: str) -> None:
    with pytest.raises(ParseError) as error:
        parse(text)
    assert error.value.incomplete, error.value.render()
    assert is_incomplete(text)


@pytest.mark.parametrize("text", [
    "1 )", ")", "{ a = 1; } }", "./a/", "x: y: ${", "{ a = 1, }", "let in in", "1 2 ]",
])
def test_real_syntax_errors_are_not_incomplete(text: str) -> None:
    with pytest.raises(ParseError) as error:
        parse(text)
    assert not error.value.incomplete, error.value.render()
    assert not is_incomplete(text)


@pytest.mark.parametrize("text, incomplete", [
    ("", False), ("   ", False), ("1 + 1", False),
    ("x = ", True), ("x = { a = 1;", True), ("x = 1", False), ("x == 1", False),
    (":q", False), (":r", False), (":l file.ndx", False), (":?", False),
    (":p { a = 1;", True), (":t [", True), (":b", False), (":doc", False),
    (":a {", True), (":nope {", False),
])
def test_is_incomplete(text: str, incomplete: bool) -> None:
    assert is_incomplete(text) is incomplete


def test_classify() -> None:
    assert classify("  ").kind == "empty"
    bind = classify("pkgs' = import ./x.ndx")
    assert (bind.kind, bind.name, bind.text.strip()) == ("bind", "pkgs'", "import ./x.ndx")
    assert classify("a == b").kind == "expr"
    assert classify("{ a = 1; }").kind == "expr"
    command = classify(":t  1 + 1 ")
    assert (command.kind, command.command, command.text) == ("command", ":t", "1 + 1")
    multi = classify(":p {\n  a = 1;\n}")
    assert (multi.command, multi.text) == (":p", "{\n  a = 1;\n}")
