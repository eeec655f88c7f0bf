"""Strings and indented strings mean what they mean in Nix 2.8.

Besides hand-picked corners, random string bodies (built from the characters and
escapes that matter) are evaluated by Nix and compared with our AST's text.
"""

from __future__ import annotations

import random

import pytest

from ndx.lang import ParseError, parse
from ndx.lang.ast import Interpolation, Str

from .nix_oracle import NixError, nix_eval_json


def text_of(expr: object) -> str:
    """The string an AST built only of literal parts stands for."""
    if type(expr) is Str:
        return expr.value
    assert type(expr) is Interpolation
    return "".join(text_of(part) for part in expr.parts)


def nix_strings(literals: list[str]) -> list[str]:
    """Nix's values of the string literals, evaluated in one run when it can."""
    try:
        return nix_eval_json("[ " + " ".join(f"({s})" for s in literals) + " ]")  # type: ignore[return-value]
    except NixError:
        if len(literals) == 1:
            raise
        middle = len(literals) // 2
        return nix_strings(literals[:middle]) + nix_strings(literals[middle:])


INDENTED = [
    "''a''", "''''", "''  a''", "'' \n  a''", "''\n  a\n  b''", "''\n  a\n    b\n  ''",
    "''\n  a\n\n    b\n   ''", "''\t a\n\t b''", "''  \n  a\n    b\n  ''", "''\n  a\n  \n  b\n  ''",
    "''\n  a\n    \n  b''", "''\n  a\n  ''\\n  b\n  ''", "''\n  a\n  '''   b\n  ''",
    "''\n    ''$x\n  a''", "''\n a\n ${\"X\"} ''", "''\n a\n  ${\"X\"}''", "''a'${\"X\"}''",
    "''${\"X\"}'b''", "''a$''", "''$$''", "''$${x}''", "''a'''b''", "''''$b''", "''''\\nx''",
    "''a''\\tb''", "''a\rb''", "''\n  ${\"X\"}\n  b''", "''\n\n\n  a\n''", "''   ''",
    "''\n  \n''", "''\n  a\n ''", "''x\n  y\n    z''", "'' x\n  y''", "''\t\n  a''",
    "''\n  ''\\  a''", "''\n  a ''$ b\n   c''", "''a\n''${x}\n  b''", "''\n  $\n  a''",
]

DOUBLE_QUOTED = [
    '"a"', '""', '"a$"', '"$"', '"\\$"', '"$\\{"', '"$${x}"', '"a\\nb\\tc\\rd"', '"\\q\\\\"',
    '"a\rb\r\nc"', '"a\nb"', '"${"X"}"', '"a${"b${"c"}"}d"', '"$$"', '"\\${x}"', '"$\\${"',
    '"x$\\"y"',
]


@pytest.mark.parametrize("literal", INDENTED + DOUBLE_QUOTED)
def test_string_value_matches_nix(literal: str) -> None:
    assert text_of(parse(literal)) == nix_strings([literal])[0]


# Pieces random bodies are made of: plain text, spaces, tabs, newlines, and every
# escape or near-escape of indented strings.
_IND_PIECES = [" ", " ", "  ", "\n", "\n", "\t", "a", "b c", "$", "'", "''$", "'''", "''\\n",
               "''\\t", "''\\ ", '${"X"}', '${"Y\\n"}', "\r", "$$", "$'a"]


def _is_one_string(literal: str) -> bool:
    """Whether `literal` parses, and as one string (a random body may close it early)."""
    try:
        return type(parse(literal)) in (Str, Interpolation)
    except ParseError:
        return False


def _random_bodies(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        body = "".join(rng.choice(_IND_PIECES) for _ in range(rng.randint(0, 14)))
        bodies.append(body)
    return bodies


def test_random_indented_strings_match_nix() -> None:
    literals = []
    for body in _random_bodies(400, seed=2):
        literal = "''" + body + "''"
        if _is_one_string(literal):
            literals.append(literal)
    assert len(literals) > 200
    values = nix_strings(literals)
    for literal, value in zip(literals, values, strict=True):
        assert text_of(parse(literal)) == value, literal


_DQ_PIECES = [" ", "\n", "\t", "a", "$", "$$", "\\$", "\\n", "\\\\", '\\"', "\\r", "\\t", "\\x",
              '${"X"}', "\r", "\r\n", "{", "}", "'", "''"]


def test_random_double_quoted_strings_match_nix() -> None:
    rng = random.Random(3)
    literals = []
    for _ in range(300):
        body = "".join(rng.choice(_DQ_PIECES) for _ in range(rng.randint(0, 12)))
        literal = '"' + body + '"'
        if _is_one_string(literal):
            literals.append(literal)
    assert len(literals) > 150
    for literal, value in zip(literals, nix_strings(literals), strict=True):
        assert text_of(parse(literal)) == value, literal
