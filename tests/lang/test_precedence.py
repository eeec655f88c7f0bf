"""Precedence and associativity of every pair of operators, against Nix 2.8.

For each pair, the ways they can meet (`a X b Y c`, `X a Y b`, `a X Y b`, …) are parsed
by us and by `nix-instantiate --parse`; Nix's fully parenthesised output must equal our
AST written the same way, and whatever Nix rejects (`a == b == c`) we must reject too.
"""

from __future__ import annotations

import itertools

import pytest

from ndx.lang import ParseError, parse

from .nix_oracle import NixError, nix_parse_many, show

BINARY = ["->", "||", "&&", "==", "!=", "<", "<=", ">", ">=", "//", "+", "-", "*", "/", "++"]
PREFIX = ["!", "-"]


def _forms() -> list[str]:
    forms: list[str] = []
    for x, y in itertools.product(BINARY, repeat=2):
        forms.append(f"a {x} b {y} c")
    for p, y in itertools.product(PREFIX, BINARY):
        forms += [f"{p}a {y} b", f"a {y} {p}b", f"a {y} {p}b {y} c", f"{p}a {y} b {y} c"]
    for p, q in itertools.product(PREFIX, repeat=2):
        forms += [f"{p}{q}a", f"{p} {q}a ? b", f"{p}a ? b"]
    for y in BINARY:
        forms += [
            # ? (has attribute, with a path) against each binary operator
            f"a ? b {y} c", f"a {y} b ? c", f"a ? b.c {y} d",
            # application
            f"f a {y} b", f"a {y} f b", f"f a {y} g b",
            # selection, with and without a default
            f"a.b {y} c", f"a {y} b.c", f"a.b or c {y} d", f"a {y} b.c or d",
            # the `or` argument quirk
            f"f or {y} a",
        ]
    for p in PREFIX:
        forms += [f"{p}f a", f"{p}a.b", f"{p}a.b or c", f"f {p}a", f"{p}a ? b.c"]
    forms += [
        "a ? b ? c", "f a b", "f a.b c", "a.b.c or d e", "a.b or c or d", "f a or",
        "a or b", "f a ? b", "a.b ? c", "a.b or c ? d", "[ a.b or c d ]", "[ f or ]",
        "a.${b}.c or d", "a ? ${b}.c", "f -1", "f - 1", "- - a", "!!a", "a - -b",
        "a: b: a + b", "a: b", "if a then b else c + d", "with a; b + c", "assert a; b || c",
        "let x = a; in x + b", "a -> if b then c else d", "-a.b.c", "!a.b ? c",
    ]
    return forms


FORMS = _forms()


@pytest.fixture(scope="module")
def nix_results() -> dict[str, str | NixError]:
    return nix_parse_many(FORMS)


@pytest.mark.parametrize("text", FORMS)
def test_operators_group_as_in_nix(text: str, nix_results: dict[str, str | NixError]) -> None:
    expected = nix_results[text]
    if isinstance(expected, NixError):
        assert "syntax error" in str(expected), expected
        with pytest.raises(ParseError):
            parse(text)
    else:
        assert show(parse(text)) == expected
