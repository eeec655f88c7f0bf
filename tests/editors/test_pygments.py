"""The Pygments lexer: in-process on the corpus and every program, and through pygmentize."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pygments.lexer import LexerContext
from pygments.token import Error, _TokenType, string_to_tokentype

from ndx.grammar.pygments_lexer import NdxLexer

from .editors_corpus import (
    CATEGORIES,
    CORPUS_DIR,
    Expectation,
    corpus_files,
    failed_expectations,
    parse_expectations,
    real_programs,
)


def _lex(text: str) -> tuple[list[tuple[int, _TokenType, str]], list[str]]:
    """The tokens of `text` with their offsets, and the state stack left at its end."""
    context = LexerContext(text, 0)
    tokens = list(NdxLexer().get_tokens_unprocessed(context=context))
    return tokens, context.stack


def _type_at(tokens: list[tuple[int, _TokenType, str]], text: str, line: int,
             column: int) -> _TokenType:
    offset = sum(len(row) + 1 for row in text.split("\n")[:line]) + column
    for start, token_type, value in tokens:
        if start <= offset < start + len(value):
            return token_type
    raise AssertionError(f"no token at line {line + 1}, column {column + 1}")


@pytest.mark.parametrize("corpus_file", corpus_files(), ids=lambda path: path.name)
def test_corpus_expectations(corpus_file: Path) -> None:
    text = corpus_file.read_text(encoding="utf-8")
    tokens, _ = _lex(text)

    def observe(expectation: Expectation) -> tuple[bool, str]:
        token_type = _type_at(tokens, text, expectation.line, expectation.column)
        wanted = string_to_tokentype(CATEGORIES[expectation.category].pygments)
        return token_type == wanted, str(token_type)

    failures = failed_expectations(parse_expectations(corpus_file), observe)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("program", [*corpus_files(), *real_programs()],
                         ids=lambda path: path.name)
def test_no_error_token_and_every_state_closes(program: Path) -> None:
    text = program.read_text(encoding="utf-8")
    tokens, stack = _lex(text)
    errors = [(text.count("\n", 0, start) + 1, value)
              for start, token_type, value in tokens if token_type in Error]
    assert not errors, f"Error tokens (line, text): {errors}"
    assert "".join(value for _, _, value in tokens) == text
    assert stack == ["root"]


def test_nested_interpolation_keeps_its_state_stack() -> None:
    """Three strings deep and back: each `}` closes its own `${`, the last `"` the string."""
    tokens, stack = _lex('"a${ "b${ "c${ x }" }" }d"')
    assert stack == ["root"]
    assert [value for _, token_type, value in tokens if token_type in string_to_tokentype(
        "Literal.String.Interpol")] == ["${", "${", "${", "}", "}", "}"]
    assert tokens[-1][2] == '"' and tokens[-2][2] == "d"


def test_pygmentize_finds_the_lexer_by_name_and_by_file_name() -> None:
    """The `pygments.lexers` entry point of pyproject.toml, as `pygmentize` uses it."""
    sample = CORPUS_DIR / "strings.ndx"
    completed = subprocess.run(
        [sys.executable, "-m", "pygments", "-l", "ndx", "-f", "raw", str(sample)],
        capture_output=True, text=True, check=True)
    assert "Token.Literal.String.Interpol\t'${'" in completed.stdout
    assert "Token.Error" not in completed.stdout
    guessed = subprocess.run([sys.executable, "-m", "pygments", "-N", str(sample)],
                             capture_output=True, text=True, check=True)
    assert guessed.stdout.strip() == "ndx"


def test_importing_the_lexer_module_needs_no_pygments() -> None:
    """ndx has no runtime dependency on Pygments: the module loads without it, and only
    reading `NdxLexer` says what is missing."""
    script = (
        "import sys\n"
        "sys.modules['pygments'] = None\n"
        "import ndx.grammar, ndx.grammar.pygments_lexer as module\n"
        "try:\n"
        "    module.NdxLexer\n"
        "except ImportError as error:\n"
        "    print('ImportError:', error)\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               check=True)
    assert completed.stdout.strip() == "ImportError: highlighting ndx needs Pygments: " \
                                       "pip install pygments"
