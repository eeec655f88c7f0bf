"""Running an evaluation from start to printed result: what `ndx eval`, the REPL, the
oracle tests and `ndx-build` call.

    ctx = EvalContext(store)
    value = ctx.evaluate_file("redis.ndx")           # weak head normal form (deep thread)
    text = run_deep(eval_output, ctx, EvalRequest(file="x.ndx", strict=True))

Evaluation runs on a thread with a large stack and a high recursion limit
(`run_deep`), because deep but finite programs (10,000 nested `let`s, a recursive
function 50,000 calls deep) need deep Python recursion; a Python `RecursionError` that
still happens becomes an ndx error ("stack overflow"), never a traceback.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .context import EvalContext
from .errors import EvalError, EvalTypeError
from .printer import print_value
from .runtime import apply, force_deep
from .values import Lambda, Thunk, force

T = TypeVar("T")

STACK_SIZE = 1 << 30
"""Bytes of (virtual) stack for the evaluation thread: only the pages used are
committed, so this costs nothing until a program recurses deeply."""

RECURSION_LIMIT = 1_000_000
"""Python frames allowed on the evaluation thread; the stack above bounds the real use."""


GC_THRESHOLDS = (100_000, 50, 100)
"""Python's cycle collector runs far less often during evaluation: an evaluator
allocates millions of short-lived thunks and environments, and the default thresholds
(700 allocations) make collection cost about a third of evaluation time."""


class StackOverflowError(EvalError):
    """Evaluation recursed deeper than the evaluation thread's stack allows."""

    code = "E-stack-overflow"


def run_deep(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `fn(*args, **kwargs)` on a thread with a deep stack and return its result
    (or raise its exception here). Re-entrant calls run directly.

    The recursion limit and GC thresholds are process-wide in Python: they are raised
    while any evaluation runs and restored when the last one ends, so no other thread
    (with an ordinary 8 MiB stack) runs with the high limit for longer than needed."""
    if getattr(_state, "deep", False):
        return fn(*args, **kwargs)
    result: list[Any] = []
    failure: list[BaseException] = []

    def target() -> None:
        _state.deep = True
        try:
            result.append(fn(*args, **kwargs))
        except RecursionError:
            failure.append(StackOverflowError(
                "stack overflow (the program recursed too deeply; possible infinite "
                "recursion)"))
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            failure.append(exc)

    _enter()
    try:
        old_size = threading.stack_size()
        threading.stack_size(STACK_SIZE)
        try:
            thread = threading.Thread(target=target, name="ndx-eval", daemon=True)
            thread.start()
        finally:
            threading.stack_size(old_size)
        thread.join()
    finally:
        _leave()
    if failure:
        raise failure[0]
    return result[0]  # type: ignore[no-any-return]


_settings_lock = threading.Lock()
_active = 0
_saved: tuple[int, tuple[int, ...]] = (0, ())


def _enter() -> None:
    global _active, _saved
    with _settings_lock:
        if _active == 0:
            _saved = (sys.getrecursionlimit(), gc.get_threshold())
            sys.setrecursionlimit(max(_saved[0], RECURSION_LIMIT))
            gc.set_threshold(*GC_THRESHOLDS)
        _active += 1


def _leave() -> None:
    global _active
    with _settings_lock:
        _active -= 1
        if _active == 0:
            sys.setrecursionlimit(_saved[0])
            gc.set_threshold(*_saved[1])


_state = threading.local()


# ------------------------------------------------------------------ ndx eval


@dataclass
class EvalRequest:
    """What `ndx eval` was asked: a file or an expression, and how to print it.

    `auto_args` are `--arg NAME EXPR` (kind "expr") and `--argstr NAME VALUE` (kind
    "str"); `attr_paths` are the `-A` selections (each printed on its own)."""

    file: str | None = None
    expression: str | None = None
    attr_paths: Sequence[str] = ()
    auto_args: Sequence[tuple[str, str, str]] = ()
    strict: bool = False
    json: bool = False
    base_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def eval_output(ctx: EvalContext, request: EvalRequest) -> str:
    """Evaluate as `nix-instantiate --eval` does and return exactly what it prints on
    stdout (one result per attribute path). Errors propagate as `NdxError`s."""
    if request.file is not None:
        root = ctx.evaluate_file(request.file)
    else:
        root = ctx.evaluate_string(request.expression or "", base_dir=request.base_dir)
    auto_args = _auto_args(ctx, request)
    outputs: list[str] = []
    for attr_path in request.attr_paths or ("",):
        value = find_along_attr_path(root, attr_path, auto_args)
        value = force(value)
        if auto_args:
            value = auto_call(value, auto_args)
        outputs.append(render_value(ctx, value, strict=request.strict, json=request.json))
    return "".join(outputs)


def render_value(ctx: EvalContext, value: Any, *, strict: bool, json: bool) -> str:
    """A forced value printed as `nix-instantiate --eval [--strict] [--json]` does
    (JSON without a final newline, like Nix)."""
    if json:
        to_json = ctx.builtins.get("toJSON")
        if to_json is None:
            raise EvalError("--json needs builtins.toJSON, which is not available")
        if not strict:
            _check_json_forced(value)
        text = force(apply(to_json, value))
        return text if type(text) is str else text.text
    if strict:
        force_deep(value)
    return print_value(value) + "\n"


def _check_json_forced(value: Any) -> None:
    """Without --strict, Nix refuses to print an unevaluated part as JSON."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is Thunk:
            if item.code is not None:
                raise EvalError("cannot convert a thunk to JSON", item.span)
            item = item.value
        if type(item) is dict:
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)


def _auto_args(ctx: EvalContext, request: EvalRequest) -> dict[str, Any]:
    args: dict[str, Any] = {}
    base_dir = request.base_dir or os.getcwd()
    for name, kind, text in request.auto_args:
        if kind == "str":
            args[name] = text
        else:
            args[name] = Thunk(_evaluate_argument, (ctx, text, base_dir))
    return args


def _evaluate_argument(job: tuple[EvalContext, str, str]) -> Any:
    """The value of an `--arg NAME EXPR` expression (evaluated only if used)."""
    ctx, text, base_dir = job
    return ctx.evaluate_string(text, base_dir=base_dir)


def auto_call(value: Any, args: dict[str, Any]) -> Any:
    """Call a top-level function with the `--arg`s it asks for, as Nix does: functions
    with a set pattern get the named arguments they declare (all of them if they take
    `...`); other values are returned as they are."""
    value = force(value)
    if type(value) is dict and "__functor" in value:
        return auto_call(apply(value["__functor"], value), args)
    if type(value) is not Lambda or value.formals is None:
        return value
    if value.ellipsis:
        given = dict(args)
    else:
        given = {}
        for name, has_default in value.formals:
            if name in args:
                given[name] = args[name]
            elif not has_default:
                raise EvalError(
                    f"cannot evaluate a function that has an argument without a value "
                    f"('{name}'); pass it with '--arg {name} EXPR' or '--argstr {name} "
                    f"VALUE'", value.span)
    return apply(value, given)


def split_attr_path(path: str) -> list[str]:
    """`a.b."c.d".0` → ["a", "b", "c.d", "0"] (double quotes protect dots)."""
    if path == "":
        return []
    parts: list[str] = []
    current = ""
    quoted = False
    for c in path:
        if c == '"':
            quoted = not quoted
        elif c == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += c
    if quoted:
        raise EvalError(f"missing closing quote in selection path '{path}'")
    parts.append(current)
    return parts


def find_along_attr_path(root: Any, path: str, auto_args: dict[str, Any]) -> Any:
    """Select `-A path` from `root`, auto-calling functions along the way; a numeric
    component indexes a list."""
    from .compiler.bindings import did_you_mean

    value = root
    for name in split_attr_path(path):
        # As Nix: a function met on the path is auto-called (with the --args, or with its
        # defaults), so `-A x file.ndx` works for `{ pkgs ? … }: { x = …; }`.
        value = auto_call(value, auto_args)
        if name.isdigit():
            if type(value) is not list:
                raise EvalTypeError(f"the expression selected by the selection path "
                                    f"'{path}' should be a list but is a "
                                    f"{_type(value)}")
            index = int(name)
            if index >= len(value):
                raise EvalError(f"list index {index} in selection path '{path}' is out of "
                                "range")
            value = value[index]
            continue
        if type(value) is not dict:
            raise EvalTypeError(f"the expression selected by the selection path '{path}' "
                                f"should be a set but is a {_type(value)}")
        if not name:
            raise EvalError(f"empty attribute name in selection path '{path}'")
        if name not in value:
            raise EvalError(f"attribute '{name}' in selection path '{path}' not found"
                            f"{did_you_mean(name, value)}")
        value = value[name]
    return value


def _type(value: Any) -> str:
    from .values import type_name

    return type_name(value)
