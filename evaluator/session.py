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
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .context import EvalContext
from .errors import EvalError, EvalTypeError
from .printer import print_value
from .runtime import apply, force_deep
from .values import Lambda, force

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

    Ctrl-C while it runs (KeyboardInterrupt in this, the main, thread) interrupts the
    evaluation thread too, waits for it to unwind and raises KeyboardInterrupt here, so
    nothing keeps running behind a REPL's prompt.

    The recursion limit and GC thresholds are process-wide in Python: they are raised
    while any evaluation runs and restored when the last one ends, so no other thread
    (with an ordinary 8 MiB stack) runs with the high limit for longer than needed."""
    if getattr(_state, "deep", False):
        return fn(*args, **kwargs)
    result: list[Any] = []
    failure: list[BaseException] = []
    run = _Interruptible()

    def target() -> None:
        _state.deep = True
        try:
            try:
                run.begin()
                result.append(fn(*args, **kwargs))
            except RecursionError:
                failure.append(StackOverflowError(
                    "stack overflow (the program recursed too deeply; possible infinite "
                    "recursion)"))
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
                failure.append(exc)
            finally:
                run.finish()
        except KeyboardInterrupt:
            pass  # an interrupt that arrived once the work was over: nothing to stop

    _enter()
    # SIGINT is blocked while the thread starts; the thread keeps it blocked (as do the
    # threads it starts), so the signal reaches this thread, in `run.wait()`, and
    # nowhere else.
    mask = _block_interrupts()
    try:
        thread = threading.Thread(target=target, name="ndx-eval", daemon=True)
        try:
            _start_with_deep_stack(thread)
            _restore_interrupts(mask)
            run.wait()
        except KeyboardInterrupt:
            # Ctrl-C: stop the evaluation itself, then report the interrupt here. A
            # second Ctrl-C while it unwinds stops waiting (the thread is abandoned).
            if not run.interrupt():
                raise  # the thread never started
            run.wait()
        thread.join()
    finally:
        _restore_interrupts(mask)
        _leave()
    if failure:
        raise failure[0]
    return result[0]  # type: ignore[no-any-return]


def _start_with_deep_stack(thread: threading.Thread) -> None:
    old_size = threading.stack_size()
    threading.stack_size(STACK_SIZE)
    try:
        thread.start()
    finally:
        threading.stack_size(old_size)


class _Interruptible:
    """Raises KeyboardInterrupt inside an evaluation thread (Ctrl-C reaches only the
    main thread), but never after the thread's work is over.

    The exception unwinds the evaluation like any other: every thunk being forced goes
    back to suspended (`Thunk.force`), so an interrupted REPL session stays usable. It
    lands when the thread next runs Python code (a C call it is blocked in, such as
    waiting for an import-from-derivation build, finishes first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ident: int | None = None
        self._interrupted = False
        self._done = False
        # Waited on instead of `Thread.join`: a join interrupted by Ctrl-C can leave the
        # Thread object believing the thread has stopped (CPython 3.11's bpo-45274 fix).
        self._finished = threading.Event()
        self._started = threading.Event()

    def begin(self) -> None:
        """Called by the thread first: an interrupt that came before it lands now."""
        with self._lock:
            self._ident = threading.get_ident()
            self._started.set()
            if self._interrupted:
                raise KeyboardInterrupt

    def finish(self) -> None:
        """Called by the thread when its work is over; cancels a pending interrupt."""
        try:
            with self._lock:
                self._done = True
                if self._interrupted and self._ident is not None:
                    _set_async_exception(self._ident, None)  # one not delivered yet
        finally:
            self._finished.set()

    def wait(self) -> None:
        """Wait until the thread's work is over (KeyboardInterrupt on Ctrl-C)."""
        self._finished.wait()

    def interrupt(self) -> bool:
        """Raise KeyboardInterrupt in the thread unless its work is over (or as soon as
        it begins); False if it was never started."""
        with self._lock:
            self._interrupted = True
            if self._ident is not None and not self._done:
                _set_async_exception(self._ident, KeyboardInterrupt)
            started = self._ident is not None
        return started or self._started.wait(timeout=_START_GRACE)


_START_GRACE = 5.0
"""Seconds to wait for a thread that was being started when Ctrl-C came (normally it
begins at once; only a thread that failed to start never does)."""


def _block_interrupts() -> set[int | signal.Signals] | None:
    """Block SIGINT in this thread; returns the previous mask."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _restore_interrupts(mask: set[int | signal.Signals] | None) -> None:
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _set_async_exception(thread_id: int, exc_type: type[BaseException] | None) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc_type) if exc_type else None)


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


def eval_output(ctx: EvalContext, request: EvalRequest,
                printed: list[str] | None = None) -> str:
    """Evaluate as `nix-instantiate --eval` does and return exactly what it prints on
    stdout (one result per attribute path). Errors propagate as `NdxError`s; `printed`,
    when given, receives the output as it is produced, so what Nix would have printed
    before the error (earlier `-A` results, the beginning of a JSON value) is kept."""
    outputs: list[str] = [] if printed is None else printed
    auto_args = _auto_args(ctx, request)  # first, as Nix: a bad --arg is reported at once
    if request.file is not None:
        root = ctx.evaluate_file(request.file)
    else:
        root = ctx.evaluate_string(request.expression or "", base_dir=request.base_dir)
    for attr_path in request.attr_paths or ("",):
        value = find_along_attr_path(root, attr_path, auto_args)
        value = force(value)
        if auto_args:
            value = auto_call(value, auto_args)
        render_value_into(ctx, value, outputs, strict=request.strict, json=request.json)
    return "".join(outputs)


def render_value(ctx: EvalContext, value: Any, *, strict: bool, json: bool) -> str:
    """A forced value printed as `nix-instantiate --eval [--strict] [--json]` does
    (JSON without a final newline, like Nix)."""
    out: list[str] = []
    render_value_into(ctx, value, out, strict=strict, json=json)
    return "".join(out)


def render_value_into(ctx: EvalContext, value: Any, out: list[str], *, strict: bool,
                      json: bool) -> None:
    """`render_value` appended to `out`; JSON piece by piece, as Nix streams it."""
    if json:
        from .builtins.json_format import write_json

        write_json(ctx, value, out, strict=strict)
        return
    if strict:
        force_deep(value)
    out.append(print_value(value) + "\n")


def _auto_args(ctx: EvalContext, request: EvalRequest) -> dict[str, Any]:
    return make_auto_args(ctx, request.auto_args, request.base_dir)


def make_auto_args(ctx: EvalContext, specs: Sequence[tuple[str, str, str]],
                   base_dir: str | None = None) -> dict[str, Any]:
    """The arguments `auto_call` passes, from `--arg NAME EXPR` (kind "expr": parsed
    now, so a syntax error or an undefined variable is reported at once even if the
    argument is never used, as Nix does; evaluated only if used; relative paths against
    `base_dir`) and `--argstr NAME VALUE` (kind "str") specs."""
    args: dict[str, Any] = {}
    base_dir = base_dir or os.getcwd()
    for name, kind, text in specs:
        if kind == "str":
            args[name] = text
        else:
            args[name] = suspend_argument(ctx, name, text, base_dir)
    return args


def suspend_argument(ctx: EvalContext, name: str, text: str, base_dir: str) -> Any:
    """`--arg NAME TEXT` parsed and compiled now (errors name the source `«--arg
    NAME»`), as a Thunk evaluated when the program uses it."""
    return ctx.suspend_string(text, name=f"«--arg {name}»", base_dir=base_dir)


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
