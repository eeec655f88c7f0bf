"""The shared corpus is valid Nix and its markers cover every category."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .editors_corpus import CATEGORIES, corpus_files, nix_parses, parse_expectations


@pytest.mark.parametrize("corpus_file", corpus_files(), ids=lambda path: path.name)
def test_corpus_file_is_valid_nix(corpus_file: Path) -> None:
    completed = subprocess.run(["nix-instantiate", "--parse", str(corpus_file)],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr


def test_nix_rejects_what_is_not_nix(tmp_path: Path) -> None:
    """The validity check can fail: an unclosed indented string is not Nix."""
    broken = tmp_path / "broken.ndx"
    broken.write_text("{ a = ''unclosed; }\n", encoding="utf-8")
    assert not nix_parses(broken)


@pytest.mark.parametrize("corpus_file", corpus_files(), ids=lambda path: path.name)
def test_corpus_file_has_expectations(corpus_file: Path) -> None:
    assert len(parse_expectations(corpus_file)) >= 10


def test_every_category_is_checked_somewhere() -> None:
    used = {e.category for path in corpus_files() for e in parse_expectations(path)
            if not e.negated}
    assert used == set(CATEGORIES)


def test_markers_point_where_they_say(tmp_path: Path) -> None:
    sample = tmp_path / "sample.ndx"
    sample.write_text('x = "a${b}";\n#   ^ string\n#     ^^ interpolation !string\n'
                      '# <- attribute\n', encoding="utf-8")
    found = {(e.line, e.column, e.category, e.negated) for e in parse_expectations(sample)}
    assert found == {(0, 4, "string", False), (0, 6, "interpolation", False),
                     (0, 7, "interpolation", False), (0, 6, "string", True),
                     (0, 7, "string", True), (0, 0, "attribute", False)}
