"""Running recursive walks over ASTs of any depth.

The parser itself never recurses, so it returns trees as deep as the input nests (up to
its stack limit) or as long as a left-associative chain runs (`1 + 1 + …`). Walks over
such trees — printing, dumping — run here: in a thread with a large stack and a high
recursion limit, and if even that is not enough the user gets an `NdxError`, not a
RecursionError.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import NdxError

T = TypeVar("T")

# The recursion limit and C stack of that thread.
_DEEP_LIMIT = 400_000
_DEEP_STACK = 1024 * 1024 * 1024


def deep(walk: Callable[..., T], *args: Any, what: str = "walk") -> T:
    """`walk(*args)`, whatever the depth of the tree it recurses over. `walk` must have
    no side effects: when it runs out of stack it is run again in a bigger one."""
    try:
        return walk(*args)
    except RecursionError:
        pass
    return _in_big_thread(walk, args, what)


def _in_big_thread(walk: Callable[..., T], args: tuple[Any, ...], what: str) -> T:
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(walk(*args))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            failure.append(exc)

    old_limit = sys.getrecursionlimit()
    old_stack = threading.stack_size()
    try:
        threading.stack_size(_DEEP_STACK)
        sys.setrecursionlimit(max(old_limit, _DEEP_LIMIT))
        thread = threading.Thread(target=run, name=f"ndx-deep-{what}")
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if failure:
        if isinstance(failure[0], RecursionError):
            raise NdxError(f"expression nested too deeply to {what}") from None
        raise failure[0]
    return result[0]
