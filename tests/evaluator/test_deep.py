"""Deep but finite programs never crash (no RecursionError, no segfault), and a truly
infinite recursion is an ndx error, not a Python one."""

from __future__ import annotations

import pytest

from ndx.evaluator.context import EvalContext
from ndx.evaluator.errors import EvalError
from ndx.evaluator.session import StackOverflowError, run_deep
from ndx.lang import ast as A
from ndx.lang.source import Source

from .conftest import evaluate_text


def test_ten_thousand_nested_lets() -> None:
    # Built as an AST, so the evaluator alone is measured (the next test parses).
    span = Source("t.ndx", "x", "/").span(0, 1)
    n = 10_000
    body: A.Expr = A.Var(f"a{n - 1}", span)
    for i in reversed(range(n)):
        value = A.Int(0, span) if i == 0 else A.BinOp(A.BinaryOp.ADD, A.Var(f"a{i - 1}", span),
                                                       A.Int(1, span), span)
        binding = A.Binding(f"a{i}", value, A.BindingKind.PLAIN, span)
        body = A.Let(A.Bindings((binding,), (), (), span), body, span)
    ctx = EvalContext()
    assert run_deep(ctx.program.evaluate_expr, body) == n - 1


def test_ten_thousand_nested_lets_from_source() -> None:
    # Nix 2.8 gives up here ("memory exhausted"); ndx evaluates it.
    n = 10_000
    text = "".join(f"let a{i} = {'0' if i == 0 else f'a{i - 1} + 1'}; in " for i in range(n))
    assert evaluate_text(text + f"a{n - 1}") == n - 1


def test_non_tail_recursion_fifty_thousand_deep() -> None:
    text = "let down = n: if n == 0 then 0 else 1 + down (n - 1); in down 50000"
    assert evaluate_text(text) == 50_000


def test_deeply_nested_data_is_forced_and_printed() -> None:
    text = "let nest = n: if n == 0 then [ ] else [ (nest (n - 1)) ]; in nest 20000"
    value = evaluate_text(text)
    depth = 0
    while value:
        value = value[0].value if hasattr(value[0], "value") else value[0]
        depth += 1
    assert depth == 20_000


def test_long_chain_of_thunks() -> None:
    n = 30_000
    text = "let " + " ".join(f"x{i} = x{i + 1} + 1;" for i in range(n)) + f" x{n} = 0; in x0"
    assert evaluate_text(text) == n


def test_deeply_nested_sets_selected() -> None:
    n = 2_000
    text = "{ a = " * n + "1" + "; }" * n + "." + ".".join(["a"] * n)
    assert evaluate_text(text) == 1


def test_infinite_function_recursion_is_an_ndx_error() -> None:
    with pytest.raises(StackOverflowError, match="stack overflow"):
        evaluate_text("let f = x: 1 + f x; in f 0")


def test_infinite_recursion_of_a_value_names_it() -> None:
    with pytest.raises(EvalError, match="infinite recursion encountered"):
        evaluate_text("let x = { y = x.y; }; in x.y")


def test_process_settings_are_restored_after_evaluation() -> None:
    import gc
    import sys

    limit, thresholds = sys.getrecursionlimit(), gc.get_threshold()
    assert evaluate_text("1 + 1") == 2
    assert (sys.getrecursionlimit(), gc.get_threshold()) == (limit, thresholds)


def test_foldl_strict_over_a_million_elements() -> None:
    text = "builtins.foldl' (acc: x: acc + x) 0 (builtins.genList (i: i) 1000000)"
    assert evaluate_text(text) == 999_999 * 1_000_000 // 2


def test_gen_list_of_a_hundred_thousand_deep_forced() -> None:
    text = "builtins.genList (i: { n = i; s = toString i; }) 100000"
    value = evaluate_text(text)
    assert len(value) == 100_000
    assert value[-1].value["s"].value == "99999"


def test_deep_seq_of_a_long_linked_structure() -> None:
    text = ("let build = n: if n == 0 then null else { next = build (n - 1); }; "
            "in builtins.deepSeq (build 50000) \"done\"")
    assert evaluate_text(text) == "done"
