"""Fixtures of the editor-grammar tests: the files every highlighter reads, tokenized once.

Each highlighter reads a copy of every corpus file and every ndx program of the
repository with the sentinel comment appended (see `editors_corpus.SENTINEL`), so a
region left open anywhere shows up on the sentinel line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .editors_corpus import REPO, corpus_files, real_programs, with_sentinel
from .editors_runners import VimAnswers, run_textmate, run_vim


@pytest.fixture(scope="session")
def highlighted_copies(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """Each corpus file and ndx program → its copy with the sentinel appended."""
    root = tmp_path_factory.mktemp("highlighted")
    copies: dict[Path, Path] = {}
    for original in [*corpus_files(), *real_programs()]:
        copy = root / original.relative_to(REPO)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(with_sentinel(original.read_text(encoding="utf-8")), encoding="utf-8")
        copies[original] = copy
    return copies


@pytest.fixture(scope="session")
def textmate_tokens(highlighted_copies: dict[Path, Path]) -> dict[str, Any]:
    """vscode-textmate's tokens of every copy, keyed by the copy's path."""
    return run_textmate(list(highlighted_copies.values()))


@pytest.fixture(scope="session")
def vim_answers(highlighted_copies: dict[Path, Path],
                tmp_path_factory: pytest.TempPathFactory) -> VimAnswers:
    """Headless Vim's syntax stacks for every copy."""
    return run_vim(highlighted_copies, tmp_path_factory.mktemp("vim"))
