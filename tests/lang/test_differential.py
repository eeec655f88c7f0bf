"""Differential tests against Nix 2.8 on generated input.

* Programs written by `unparse` from generated ASTs: Nix must accept each with the same
  tree as ours.
* Random token soup: Nix and ndx must agree on accepting or rejecting, and on the tree
  when both accept.
"""

from __future__ import annotations

import random
from dataclasses import fields, replace

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ndx.lang import ParseError, parse
from ndx.lang.ast import BindingKind, Formals, Let, Node
from ndx.lang.printer import unparse

from .fuzz_budget import examples
from .nix_oracle import NixError, nix_parse_many, show
from .strategies import expressions

# Tokens for the soup: every kind of token, with free variables only a, b, f.
SOUP = ["a", "b", "f", "1", "2.5", "\"s\"", "\"${a}\"", "''x''", "./p", "<q>", "u:v", "{", "}",
        "(", ")", "[", "]", ";", ":", ",", ".", "=", "?", "@", "...", "==", "!=", "<", "<=",
        ">", ">=", "&&", "||", "->", "//", "+", "-", "*", "/", "++", "!", "or", "let", "in",
        "rec", "with", "if", "then", "else", "assert", "inherit", "${", "x:", "a.b", "__curPos"]


def _soups(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(SOUP) for _ in range(rng.randint(1, 9))) for _ in range(count)]


def test_random_token_soup_agrees_with_nix(tmp_path) -> None:
    texts = _soups(600, seed=11)
    results = nix_parse_many(texts, cwd=str(tmp_path))
    accepted = 0
    for text in texts:
        expected = results[text]
        if isinstance(expected, NixError):
            try:
                parse(text, base_dir=str(tmp_path))
            except ParseError:
                continue
            raise AssertionError(f"Nix rejects {text!r} ({expected}) but ndx accepts it")
        accepted += 1
        assert show(parse(text, base_dir=str(tmp_path))) == expected, text
    assert accepted >= 20


def _nix_orderable(expr: object) -> object:
    """`expr` with at most one binding per `let` and one formal per function: Nix prints
    those in the order of its symbol table, which its output does not reveal."""
    if isinstance(expr, tuple):
        return tuple(_nix_orderable(item) for item in expr)
    if not isinstance(expr, Node):
        return expr
    changes = {f.name: _nix_orderable(getattr(expr, f.name)) for f in fields(expr)
               if f.name != "span"}
    if type(expr) is Let:
        bindings = changes["bindings"]
        first = bindings.attrs[:1]
        sources: tuple = ()
        if first and first[0].kind is BindingKind.INHERIT_FROM:
            select = first[0].value
            sources = (bindings.inherit_sources[select.subject.index],)
            first = (replace(first[0], value=replace(
                select, subject=replace(select.subject, index=0))),)
        changes["bindings"] = replace(bindings, attrs=first, inherit_sources=sources)
    if type(expr) is Formals:
        changes["params"] = changes["params"][:1]
    return replace(expr, **changes)


@st.composite
def _programs(draw: st.DrawFn) -> list[str]:
    return [unparse(_nix_orderable(draw(expressions))) for _ in range(40)]


@settings(max_examples=examples(4), deadline=None, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_programs())
def test_generated_programs_mean_the_same_in_nix(programs: list[str]) -> None:
    results = nix_parse_many(programs)
    for text in programs:
        expected = results[text]
        assert not isinstance(expected, NixError), f"Nix rejects {text!r}: {expected}"
        assert show(parse(text)) == expected, text
