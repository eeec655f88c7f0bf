"""`unparse` writes source that parses back to the very same AST."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from ndx.lang import parse
from ndx.lang.printer import unparse

from .fuzz_budget import examples
from .strategies import expressions

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "parse"
ROOT = Path(__file__).resolve().parents[2]


def benchmark_corpus(lines: int) -> str:
    """The generated corpus of benchmarks/parse.py (a script, loaded by path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_parse_benchmark",
                                                  ROOT / "benchmarks" / "parse.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_corpus(lines)  # type: ignore[no-any-return]


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_generated_asts_round_trip(expr: object) -> None:
    text = unparse(expr)  # type: ignore[arg-type]
    assert parse(text) == expr, text


@pytest.mark.parametrize("case", sorted(GOLDEN.glob("okay-*.ndx")), ids=lambda p: p.stem)
def test_real_files_round_trip(case: Path) -> None:
    tree = parse(case.read_text(encoding="utf-8"), case.name, base_dir="/golden")
    assert parse(unparse(tree), base_dir="/golden") == tree


def test_benchmark_corpus_round_trips() -> None:
    tree = parse(benchmark_corpus(2_000))
    assert parse(unparse(tree)) == tree


def test_deeply_nested_trees_print() -> None:
    import operator

    from ndx.lang.deep import deep

    tree = parse("[" * 3000 + "]" * 3000)
    assert deep(operator.eq, parse(unparse(tree)), tree)
    chain = parse(" + ".join(["1"] * 20_000))
    assert unparse(chain).count("+") == 19_999
