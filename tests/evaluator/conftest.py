"""Helpers for evaluator tests: evaluate text the way `ndx eval` does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ndx.evaluator.context import EvalContext
from ndx.evaluator.printer import print_value
from ndx.evaluator.runtime import force_deep
from ndx.evaluator.session import run_deep


def evaluate_text(text: str, ctx: EvalContext | None = None, *, base_dir: str = "/") -> Any:
    """Evaluate `text` on the deep-stack evaluation thread; returns the deep-forced value."""
    context = ctx or EvalContext()
    return run_deep(lambda: force_deep(context.evaluate_string(text, base_dir=base_dir)))


@pytest.fixture
def ev() -> Callable[[str], str]:
    """`ev("1 + 1") == "2"`: evaluate strictly and print like `ndx eval --strict`."""
    return lambda text: print_value(evaluate_text(text))
