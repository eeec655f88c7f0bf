"""Helpers for evaluator tests: evaluate text the way `ndx eval` does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """ndx's caches (parse table, parsed files) go to a temporary directory, not the
    user's ~/.cache, while these tests run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NDX_CACHE_DIR", str(tmp_path_factory.mktemp("ndx-cache")))
        yield
