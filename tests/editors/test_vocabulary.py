"""One vocabulary for every grammar: generated files are current and the lists match Nix."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from ndx.grammar.generate import stale_files
from ndx.grammar.vocabulary import load_vocabulary

from .editors_corpus import REPO


def _nix_parses(expression: str) -> bool:
    completed = subprocess.run(["nix-instantiate", "--parse", "-E", expression],
                               capture_output=True, text=True, check=False, cwd=REPO)
    return completed.returncode == 0


def test_generated_grammars_are_up_to_date() -> None:
    stale = stale_files()
    assert not stale, f"stale: {stale}; run: python -m ndx.grammar.generate"


def test_generator_check_mode_reports_success() -> None:
    completed = subprocess.run([sys.executable, "-m", "ndx.grammar.generate", "--check"],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr


def test_builtins_are_the_builtins_of_nix() -> None:
    completed = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", "-E", "builtins.attrNames builtins"],
        capture_output=True, text=True, check=True, cwd=REPO)
    assert list(load_vocabulary().builtins) == json.loads(completed.stdout)


def test_globals_are_the_builtins_bound_without_prefix() -> None:
    """Nix binds some builtins bare (`map`) and every other one as `__name` (`__head`)."""
    vocabulary = load_vocabulary()
    assert _nix_parses("[ " + " ".join(vocabulary.globals) + " ]")
    others = [name for name in vocabulary.builtins if name not in vocabulary.globals]
    with ThreadPoolExecutor(max_workers=4) as pool:  # one nix process per name
        answers = pool.map(_nix_parses, others)
        bound = [name for name, parses in zip(others, answers, strict=True) if parses]
    assert not bound, f"bound without builtins.: {bound}"
    aliases = [name for name in vocabulary.global_functions() if name.startswith("__")]
    assert _nix_parses("[ " + " ".join(aliases) + " ]")


@pytest.mark.parametrize("operator", [token for tokens in load_vocabulary().operators.values()
                                      for token in tokens])
def test_operators_are_operators_of_nix(operator: str) -> None:
    expression = f"a: {operator} a" if operator == "!" else f"a: b: a {operator} b"
    assert _nix_parses(expression)


def test_keywords_are_reserved_but_or_is_an_attribute_name() -> None:
    vocabulary = load_vocabulary()
    for keyword in (*vocabulary.control_keywords, *vocabulary.other_keywords):
        assert not _nix_parses(f"{{ {keyword} = 1; }}"), keyword
    for keyword in vocabulary.operator_keywords:
        assert _nix_parses(f"{{ {keyword} = 1; }}.{keyword}")
