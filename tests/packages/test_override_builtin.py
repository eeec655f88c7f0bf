"""The global `override` builtin: `override pkg { … }` is `pkg.override { … }`."""

from __future__ import annotations

from typing import Any

import pytest

import ndx.stdlib  # noqa: F401  (registers override)
from ndx.evaluator.context import EvalContext
from ndx.evaluator.errors import EvalError
from ndx.evaluator.runtime import force_deep
from ndx.evaluator.session import run_deep
from ndx.stdlib.store.memory import MemoryStore


def evaluate(text: str) -> Any:
    ctx = EvalContext(MemoryStore())
    return run_deep(lambda: force_deep(ctx.evaluate_string(text, base_dir="/")))


def test_override_calls_the_packages_override() -> None:
    assert evaluate("let p = { override = a: a.x * 2; }; in override p { x = 21; }") == 42


def test_override_passes_a_function_through() -> None:
    text = ("let mk = args: { v = args.x; override = f: mk (args // f args); }; "
            "in (override (mk { x = 1; }) (old: { x = old.x + 1; })).v")
    assert evaluate(text) == 2


def test_a_value_without_override_is_a_clear_error() -> None:
    with pytest.raises(EvalError, match=r'"redis-7.0.15" cannot be overridden.*overrideAttrs'):
        evaluate('override { name = "redis-7.0.15"; } { }')


def test_override_needs_a_set() -> None:
    with pytest.raises(EvalError, match="set"):
        evaluate("override 3 { }")
