"""Calling functions and forcing values from Python: what builtins use to run ndx code.

    apply(f, x)          call a function value with one argument, return the result forced
    call(f, x, y)        apply(apply(f, x), y)
    lazy_apply(f, x)     a Thunk that calls f x when (and if) it is forced — `map` uses it
    force(v)             weak head normal form (re-exported from `values`)
    force_deep(v)        force every list element and attribute, recursively (`--strict`,
                         `deepSeq`)

A function value is a `Lambda`, a `PrimOp`, a `PrimOpApp`, or a set with `__functor`
(called as `set.__functor set x`). Arguments are passed unforced: a value or a Thunk.
Errors raised here carry no location; the evaluator attaches the call site's.
"""

from __future__ import annotations

from typing import Any

from .coerce import show_type
from .errors import EvalError, FunctionCallError
from .printer import describe_value
from .values import Lambda, PrimOp, PrimOpApp, Thunk, force

__all__ = ["apply", "call", "force", "force_deep", "lazy_apply", "not_callable"]


def apply(function: Any, arg: Any) -> Any:
    """Call `function` (a value or Thunk) with `arg` (a value or Thunk); the result is
    in weak head normal form."""
    if type(function) is Thunk:
        function = function.force()
    t = type(function)
    if t is Lambda:
        body = function.body
        result = body([function.env, arg]) if body is not None else function._call(arg)
    elif t is PrimOp:
        if function.arity != 1:
            return PrimOpApp(function, (arg,))
        result = function.fn(arg)
    elif t is PrimOpApp:
        primop = function.primop
        args = function.args + (arg,)
        if len(args) != primop.arity:
            return PrimOpApp(primop, args)
        result = primop.fn(*args)
    elif t is dict and "__functor" in function:
        return apply(apply(function["__functor"], function), arg)
    else:
        raise not_callable(function)
    if type(result) is Thunk:
        result = result.force()
    return result


def not_callable(value: Any) -> EvalError:
    """The error for calling something that is not a function."""
    return FunctionCallError(f"attempt to call something which is not a function but "
                             f"{show_type(value)}: {describe_value(value)}")


def call(function: Any, *args: Any) -> Any:
    """Apply a curried function to several arguments in turn."""
    result = function
    for arg in args:
        result = apply(result, arg)
    return result


def _apply_pair(pair: tuple[Any, Any]) -> Any:
    return apply(pair[0], pair[1])


class _CallSite:
    """Where the builtin being called was called from (set by compiled call sites), so
    the Thunks a builtin creates (`map`'s elements) point there if they fail."""

    __slots__ = ("span",)

    def __init__(self) -> None:
        self.span: Any = None


CALL_SITE = _CallSite()


def lazy_apply(function: Any, arg: Any) -> Thunk:
    """A Thunk for `function arg`, evaluated at most once, when forced (errors without a
    location of their own are placed at the call of the builtin that made it)."""
    return Thunk(_apply_pair, (function, arg), CALL_SITE.span)


def force_deep(value: Any) -> Any:
    """Force `value` and, recursively, every list element and attribute value in it (as
    `--strict` and `builtins.deepSeq` do); return the forced value.

    Depth-first, in order, without Python recursion; a structure seen once is not walked
    again (so cyclic data terminates). An error inside an attribute gets a frame
    "while evaluating the attribute 'name'" for each set it is nested in.
    """
    value = force(value)
    t = type(value)
    if t is not dict and t is not list:
        return value
    seen: set[int] = set()
    # (item, trail): trail is None or (attribute name, span, parent trail).
    stack: list[tuple[Any, Any]] = [(value, None)]
    while stack:
        item, trail = stack.pop()
        if type(item) is Thunk:
            try:
                item = item.force()
            except EvalError as error:
                _add_trail(error, trail)
                raise
        t = type(item)
        if t is dict:
            if id(item) in seen:
                continue
            seen.add(id(item))
            children = []
            for name, child in item.items():
                tc = type(child)
                if tc is Thunk or tc is dict or tc is list:
                    span = child.span if tc is Thunk else None
                    children.append((child, (name, span, trail)))
            children.reverse()
            stack.extend(children)
        elif t is list:
            if id(item) in seen:
                continue
            seen.add(id(item))
            for child in reversed(item):
                tc = type(child)
                if tc is Thunk or tc is dict or tc is list:
                    stack.append((child, trail))
    return value


def _add_trail(error: EvalError, trail: Any) -> None:
    while trail is not None:
        name, span, trail = trail
        error.add_frame(f"while evaluating the attribute '{name}'", span)
