"""The table of builtins, filled by a decorator in each domain module.

A builtin is registered once, globally, as a *spec*; each evaluation context turns the
specs into `PrimOp` values (binding the context for builtins that need one: the store,
the search path, the import cache). `ndx.stdlib` registers its builtins (fetchers,
`buildImage`, …) through the same decorator.

    @builtin("head", 1)
    def head(xs):
        '''Return the first element of a list.'''
        ...

    @builtin("import", 1, global_=True, context=True)
    def import_(ctx, path):
        ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..values import PrimOp


@dataclass(frozen=True)
class BuiltinSpec:
    """One registered builtin.

    `arity` 0 means a constant: `fn(ctx)` (or `fn()`) computes the value once per context.
    `global_` makes the name visible without `builtins.` (`map`, `toString`, …).
    `context` passes the evaluation context as the first argument of `fn`.
    `doc` is the first paragraph of `fn`'s docstring (the REPL's `:doc` shows all of it).
    Arguments arrive unforced (values or Thunks): the builtin forces what Nix forces.
    """

    name: str
    arity: int
    fn: Callable[..., Any]
    doc: str
    global_: bool
    context: bool
    extension: bool = False


REGISTRY: dict[str, BuiltinSpec] = {}


def builtin(name: str, arity: int, *, global_: bool = False, context: bool = False,
            extension: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as builtin `name` taking `arity` arguments.

    `extension=True` marks a builtin of ndx's own (`buildImage`, `pullImage`, …): it is a
    global name but stays out of the `builtins` set, which lists exactly Nix 2.8's
    builtins so that Nix code inspecting it behaves the same."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise AssertionError(f"builtin {name!r} registered twice")
        REGISTRY[name] = BuiltinSpec(name, arity, fn, summary(fn.__doc__),
                                     global_ or extension, context, extension)
        return fn

    return register


def summary(docstring: str | None) -> str:
    """The first paragraph of a docstring on one line (a sentence is not cut where its
    first line happens to end)."""
    lines: list[str] = []
    for line in (docstring or "").strip().splitlines():
        if not line.strip():
            break
        lines.append(line.strip())
    return " ".join(lines)


def instantiate(ctx: Any) -> dict[str, Any]:
    """The `builtins` attribute set for one evaluation context: a PrimOp per function,
    the computed value per constant."""
    table: dict[str, Any] = {}
    for spec in REGISTRY.values():
        fn = spec.fn
        if spec.context:
            fn = _bind(fn, ctx)
        table[spec.name] = fn() if spec.arity == 0 else PrimOp(spec.name, spec.arity, fn,
                                                                spec.doc)
    return table


def _bind(fn: Callable[..., Any], ctx: Any) -> Callable[..., Any]:
    def bound(*args: Any) -> Any:
        return fn(ctx, *args)

    bound.__name__ = fn.__name__
    bound.__doc__ = fn.__doc__
    return bound


def global_names() -> list[str]:
    """Names visible at top level without `builtins.`."""
    return sorted(spec.name for spec in REGISTRY.values() if spec.global_)
