"""Run each highlighter over files: vscode-textmate through node, Vim headless, Pygments."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .editors_corpus import CORPUS_DIR, GRAMMAR_DIR, parse_expectations

TEXTMATE_TOOLS = Path(__file__).resolve().parent / "textmate"
VIM_QUERY = Path(__file__).resolve().parent / "vim" / "query.vim"


def run_textmate(files: list[Path]) -> dict[str, Any]:
    """vscode-textmate's tokens of `files` with the grammar of the VS Code extension folder
    (the format is described in textmate/tokenize.js)."""
    node = shutil.which("node")
    assert node, "node is missing: ./dev.sh setup installs Debian's nodejs"
    assert (TEXTMATE_TOOLS / "node_modules" / "vscode-textmate").is_dir(), (
        "the npm test tooling is missing: run ./dev.sh setup "
        "(scripts/setup.d/50-editors-npm.sh)")
    request = json.dumps({"files": [str(path) for path in files]})
    completed = subprocess.run(
        [node, str(TEXTMATE_TOOLS / "tokenize.js"), str(GRAMMAR_DIR / "vscode")],
        input=request, capture_output=True, text=True, check=False, timeout=300)
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


@dataclass(frozen=True)
class VimAnswers:
    """What headless Vim reported for the highlighted copies, keyed by original file."""

    stacks: dict[tuple[Path, int, int], list[str]]
    """Syntax groups (outermost first, then the innermost item's own group) at
    (file, 0-based line, 0-based column) for every expectation of the corpus."""
    sentinel: dict[Path, list[str]]
    """The same at the sentinel comment of every file."""
    filetype: dict[Path, str]
    commentstring: dict[Path, str]


def _byte_column(line: str, column: int) -> int:
    """Vim's 1-based byte column of a 0-based character column."""
    return len(line[:column].encode("utf-8")) + 1


def run_vim(copies: dict[Path, Path], scratch: Path) -> VimAnswers:
    """One headless Vim over every copy (see vim/query.vim), asked for the syntax stack
    at every expectation of the corpus and at the sentinel of every file."""
    vim = shutil.which("vim")
    assert vim, "vim is missing: ./dev.sh setup installs vim-nox"
    wanted = {original: sorted({(e.line, e.column) for e in parse_expectations(original)})
              if original.is_relative_to(CORPUS_DIR) else []
              for original in copies}
    request: dict[str, list[list[int]]] = {}
    for original, positions in wanted.items():
        lines = copies[original].read_text(encoding="utf-8").split("\n")
        sentinel_line = len(lines) - 1  # 1-based: the text ends with the sentinel, "\n"
        request[str(copies[original])] = [[line + 1, _byte_column(lines[line], column)]
                                          for line, column in positions] + [[sentinel_line, 1]]
    request_file, result_file = scratch / "request.json", scratch / "result.json"
    request_file.write_text(json.dumps(request), encoding="utf-8")
    env = dict(os.environ, NDX_VIM_REQUEST=str(request_file), NDX_VIM_RESULT=str(result_file),
               HOME=str(scratch))
    completed = subprocess.run(
        [vim, "-Nu", "NONE", "-i", "NONE", "-es",
         "--cmd", f"set runtimepath^={GRAMMAR_DIR / 'vim'}", "-S", str(VIM_QUERY)],
        env=env, capture_output=True, text=True, check=False, timeout=300,
        stdin=subprocess.DEVNULL)
    assert completed.returncode == 0 and result_file.exists(), (
        f"vim failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    answers = VimAnswers(stacks={}, sentinel={}, filetype={}, commentstring={})
    for original, positions in wanted.items():
        answer = result[str(copies[original])]
        *at_positions, at_sentinel = answer["stacks"]
        for (line, column), stack in zip(positions, at_positions, strict=True):
            answers.stacks[(original, line, column)] = stack
        answers.sentinel[original] = at_sentinel
        answers.filetype[original] = answer["filetype"]
        answers.commentstring[original] = answer["commentstring"]
    return answers
