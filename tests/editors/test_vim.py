"""The Vim syntax file, run in a headless Vim over the shared corpus and every program."""

from __future__ import annotations

from pathlib import Path

import pytest

from .editors_corpus import (
    CATEGORIES,
    Expectation,
    corpus_files,
    failed_expectations,
    parse_expectations,
    real_programs,
)
from .editors_runners import VimAnswers

INTERPOLATION_GROUPS = ("ndxInterpolation", "ndxInterpolationDelim")


def _effective_groups(stack: list[str]) -> list[str]:
    """The groups from the innermost interpolation on: what `${…}` holds is code."""
    inner = [index for index, group in enumerate(stack) if group in INTERPOLATION_GROUPS]
    return stack[inner[-1]:] if inner else stack


@pytest.mark.parametrize("corpus_file", corpus_files(), ids=lambda path: path.name)
def test_corpus_expectations(corpus_file: Path, vim_answers: VimAnswers) -> None:
    def observe(expectation: Expectation) -> tuple[bool, str]:
        stack = vim_answers.stacks[(corpus_file, expectation.line, expectation.column)]
        groups = _effective_groups(stack)
        wanted = CATEGORIES[expectation.category].vim
        return any(group in wanted for group in groups), " ".join(stack)

    failures = failed_expectations(parse_expectations(corpus_file), observe)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("program", [*corpus_files(), *real_programs()],
                         ids=lambda path: path.name)
def test_every_region_closes(program: Path, vim_answers: VimAnswers) -> None:
    """The sentinel comment after the file is a top-level comment and nothing else."""
    assert vim_answers.sentinel[program] == ["ndxComment", "ndxComment"]


def test_ndx_files_are_detected_and_commented_with_hash(vim_answers: VimAnswers) -> None:
    """ftdetect sets the file type from the extension; ftplugin sets `#` comments."""
    for corpus_file in corpus_files():
        assert vim_answers.filetype[corpus_file] == "ndx"
        assert vim_answers.commentstring[corpus_file] == "# %s"
