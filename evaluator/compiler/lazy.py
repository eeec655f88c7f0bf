"""How a compiled expression produces a value *without evaluating it*.

Every binding, attribute value, list element and function argument is lazy. Rather than
wrapping each one in a Thunk, the compiler classifies the expression:

    Const(value)        a literal (or a builtin): the value itself
    SlotRef(d, i)       a variable bound lexically: the existing value or Thunk in the
                        environment (`x` passed on never makes a new thunk)
    Make(maker)         a function literal: `maker(env)` builds the Lambda at once (it
                        cannot fail or loop, so building it is as lazy as not)
    Delay(code, span)   anything else: `Thunk(code, env, span)`

`code(env)` always returns a value in weak head normal form; `maker_of` turns any lazy
form into one callable `make(env)` for the less hot paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ndx.lang.source import Span

from ..values import Thunk

Code = Callable[[Any], Any]
"""Compiled expression: environment → value in weak head normal form."""


@dataclass(frozen=True, slots=True)
class Const:
    value: Any


@dataclass(frozen=True, slots=True)
class SlotRef:
    depth: int
    index: int


@dataclass(frozen=True, slots=True)
class Make:
    maker: Code


@dataclass(frozen=True, slots=True)
class Delay:
    code: Code
    span: Span | None


Lazy = Const | SlotRef | Make | Delay


def maker_of(lazy: Lazy) -> Code:
    """A callable `make(env)` giving the lazy value (a value or Thunk) in `env`."""
    if type(lazy) is Const:
        value = lazy.value
        return lambda env: value
    if type(lazy) is SlotRef:
        return slot_getter(lazy.depth, lazy.index)
    if type(lazy) is Make:
        return lazy.maker
    code = lazy.code  # type: ignore[union-attr]
    span = lazy.span  # type: ignore[union-attr]
    return lambda env: Thunk(code, env, span)


def slot_getter(depth: int, index: int) -> Code:
    """`env → env[0]…[0][index]` (`depth` parents up), unforced."""
    if depth == 0:
        return lambda env: env[index]
    if depth == 1:
        return lambda env: env[0][index]
    if depth == 2:
        return lambda env: env[0][0][index]
    if depth == 3:
        return lambda env: env[0][0][0][index]

    def get(env: Any) -> Any:
        for _ in range(depth):
            env = env[0]
        return env[index]

    return get


def env_walker(depth: int) -> Callable[[Any], Any]:
    """`env → the environment `depth` parents up`."""
    if depth == 0:
        return lambda env: env
    if depth == 1:
        return lambda env: env[0]

    def walk(env: Any) -> Any:
        for _ in range(depth):
            env = env[0]
        return env

    return walk
