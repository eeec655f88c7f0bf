"""The compiler's core: its entry points, shared by the topic mixins.

`compile(node, scope)` gives a closure `code(env) -> value`; `lazy(node, scope)` says how
to produce a value without evaluating it; `operand(node, scope)` classifies a node for the
source templates; `resolve` places a variable. The node-specific methods live in the
mixins (`bindings.py`, `functions.py`, `strings.py`) and in `compiler.Compiler`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ndx.lang import ast as A
from ndx.lang.source import Span

from ..errors import UndefinedVariableError
from ..values import Thunk
from .lazy import Code, Const, Delay, Lazy, Make, SlotRef
from .scope import Constant, Dynamic, Scope, Slot

if TYPE_CHECKING:
    from ..context import EvalContext


NOT_CONSTANT = object()
"""`CompilerCore.constant_select`'s answer for an expression not known before evaluation."""


class CompilerCore:
    """State and entry points of the compiler (see the module docstring)."""

    _dispatch: dict[type, Callable[[Any, Scope], Code]]

    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx

    def compile(self, node: A.Expr, scope: Scope) -> Code:
        """`node` as a closure `code(env) -> value` (weak head normal form)."""
        return self._dispatch[type(node)](node, scope)

    def lazy(self, node: A.Expr, scope: Scope, name: str | None = None, *,
             argument: bool = False) -> Lazy:
        """How to produce `node`'s value without evaluating it (see `lazy.py`).
        `name` names a function literal bound to an attribute or variable.

        A function literal passed as an `argument` is built at once (it cannot fail);
        bound anywhere else it stays a Thunk until used, as in Nix, which shows in
        how unevaluated values print (`<CODE>`)."""
        if isinstance(node, (A.Int, A.Float, A.Str)):
            return Const(node.value)
        if isinstance(node, A.Path):
            return Const(self.ctx.make_path(node.value))
        if isinstance(node, A.Var):
            where = self.resolve(node, scope)
            if type(where) is Slot:
                return SlotRef(where.depth, where.index)
            if type(where) is Constant:
                return Const(where.value)
        elif isinstance(node, A.Lambda):
            maker = self.lambda_maker(node, scope, name)
            return Make(maker) if argument else Delay(maker, node.span)
        return Delay(self.compile(node, scope), node.span)

    def operand(self, node: A.Expr, scope: Scope) -> tuple[Any, ...]:
        """`node` as a template operand: a constant, a variable slot, or code."""
        if isinstance(node, (A.Int, A.Float, A.Str)):
            return ("const", node.value)
        if isinstance(node, A.Var):
            where = self.resolve(node, scope)
            if type(where) is Slot:
                return ("slot", where.depth, where.index)
            if type(where) is Constant and type(where.value) is not Thunk:
                return ("const", where.value)
        elif isinstance(node, A.Select):
            found = self.constant_select(node, scope)
            if found is not NOT_CONSTANT:
                return ("const", found)
        return ("code", self.compile(node, scope))

    def constant_select(self, node: A.Select, scope: Scope) -> Any:
        """The value of `builtins.name` (a static attribute of a constant set, already a
        value), known at compile time; else `NOT_CONSTANT`. Only where the value is used
        at once (an operand, a function called): as a lazy value it stays a thunk, as in
        Nix, where it would print as `<CODE>`."""
        if node.default is not None or len(node.path) != 1 or type(node.path[0]) is not str:
            return NOT_CONSTANT
        subject = node.subject
        if type(subject) is not A.Var:
            return NOT_CONSTANT
        where = scope.resolve(subject.name)
        if type(where) is not Constant or type(where.value) is not dict:
            return NOT_CONSTANT
        value = where.value.get(node.path[0], NOT_CONSTANT)
        return NOT_CONSTANT if type(value) is Thunk else value

    def file_name(self, span: Span) -> str:
        """The file a span is in, as `__curPos` and `unsafeGetAttrPos` report it."""
        name = span.source.name
        if name == "«string»":
            # Nix 2.8 reports the expression's own text as the file of a position in
            # `-E` text; we match it so positions print the same.
            return span.source.text
        if name.startswith("«") or os.path.isabs(name):
            return name
        return os.path.join(span.source.base_dir, os.path.basename(name))

    def resolve(self, node: A.Var, scope: Scope) -> Slot | Constant | Dynamic:
        """Where the variable lives; an unbound name is an error before evaluation."""
        where = scope.resolve(node.name)
        if where is None:
            raise UndefinedVariableError(f"undefined variable '{node.name}'", node.span)
        return where

    # Implemented by the mixins; declared here so each mixin can call the others.

    def lambda_maker(self, node: A.Lambda, scope: Scope, name: str | None) -> Code:
        """`make(env) -> Lambda` for a function literal (see functions.py)."""
        raise NotImplementedError

    def with_lookup(self, name: str, depths: tuple[int, ...], span: Span) -> Code:
        """A variable only `with`s can bind (see bindings.py)."""
        raise NotImplementedError
