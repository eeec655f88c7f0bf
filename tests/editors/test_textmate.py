"""The TextMate grammar, run by the engine VS Code uses (vscode-textmate + vscode-oniguruma)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .editors_corpus import (
    CATEGORIES,
    GRAMMAR_DIR,
    SENTINEL,
    Expectation,
    corpus_files,
    failed_expectations,
    parse_expectations,
    real_programs,
)

EXTENSION = GRAMMAR_DIR / "vscode"


def _effective_scopes(scopes: list[str]) -> list[str]:
    """The scopes from the innermost `meta.embedded` on: inside `${…}` a theme (and VS
    Code's own token types) sees code, not the string around it."""
    embedded = [index for index, scope in enumerate(scopes) if scope.startswith("meta.embedded")]
    return scopes[embedded[-1]:] if embedded else scopes


def _has_scope(scopes: list[str], prefix: str) -> bool:
    return any(scope == prefix or scope.startswith(prefix + ".") for scope in scopes)


def _scopes_at(file_tokens: dict[str, Any], line: int, column: int) -> list[str]:
    for start, end, scopes in file_tokens["lines"][line]:
        if start <= column < end:
            return list(scopes)
    raise AssertionError(f"no token at line {line + 1}, column {column + 1}")


@pytest.mark.parametrize("corpus_file", corpus_files(), ids=lambda path: path.name)
def test_corpus_expectations(corpus_file: Path, highlighted_copies: dict[Path, Path],
                             textmate_tokens: dict[str, Any]) -> None:
    tokens = textmate_tokens["files"][str(highlighted_copies[corpus_file])]

    def observe(expectation: Expectation) -> tuple[bool, str]:
        scopes = _effective_scopes(_scopes_at(tokens, expectation.line, expectation.column))
        return _has_scope(scopes, CATEGORIES[expectation.category].textmate), " ".join(scopes)

    failures = failed_expectations(parse_expectations(corpus_file), observe)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("program", [*corpus_files(), *real_programs()],
                         ids=lambda path: path.name)
def test_every_region_closes(program: Path, highlighted_copies: dict[Path, Path],
                             textmate_tokens: dict[str, Any]) -> None:
    """After the whole file the rule stack is back at the top and the sentinel line is a
    plain top-level comment: no string, brace or binding was left open."""
    tokens = textmate_tokens["files"][str(highlighted_copies[program])]
    assert tokens["finalDepth"] == 1
    sentinel_tokens = tokens["lines"][-2]
    assert sentinel_tokens, f"no tokens on the sentinel line {SENTINEL!r}"
    for _start, _end, scopes in sentinel_tokens:
        assert scopes[:2] == ["source.ndx", "comment.line.number-sign.ndx"], scopes


def test_extension_contributes_the_grammar_for_ndx_files() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    [language] = manifest["contributes"]["languages"]
    [grammar] = manifest["contributes"]["grammars"]
    assert language["id"] == grammar["language"] == "ndx"
    assert language["extensions"] == [".ndx"]
    grammar_file = EXTENSION / grammar["path"]
    assert json.loads(grammar_file.read_text(encoding="utf-8"))["scopeName"] == grammar["scopeName"]
    configuration = json.loads((EXTENSION / language["configuration"]).read_text(encoding="utf-8"))
    assert configuration["comments"] == {"lineComment": "#", "blockComment": ["/*", "*/"]}
    pairs = {(pair["open"], pair["close"]) for pair in configuration["autoClosingPairs"]}
    assert {("{", "}"), ("[", "]"), ("(", ")"), ('"', '"'), ("''", "''")} <= pairs
    assert [list(pair) for pair in configuration["brackets"]] == [["{", "}"], ["[", "]"], ["(", ")"]]


def test_extension_grammar_is_the_grammar() -> None:
    """The extension folder carries its own copy (it is copied into ~/.vscode/extensions)."""
    assert ((EXTENSION / "syntaxes" / "ndx.tmLanguage.json").read_bytes()
            == (GRAMMAR_DIR / "ndx.tmLanguage.json").read_bytes())
