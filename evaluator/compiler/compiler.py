"""AST → Python closures: each expression compiles once to `code(env) -> value`.

Why closures: a tree-walking interpreter pays a dispatch per node per evaluation; here
dispatch happens once, at compile time, and each closure is specialised for its node's
shape (a variable at depth 0, an `int + int`, a one-key selection, …). Variables are
resolved to (depth, index) slots (`scope.py`), so a lookup is a couple of list indexings.

The compiler is split by topic: this module (literals, variables, application, control,
operators), `bindings.py` (sets, `let`, `with`, selection), `functions.py` (lambdas),
`strings.py` (interpolation, paths, `<search paths>`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ndx.lang import ast as A

from ..coerce import show_type, type_error
from ..errors import AssertionFailedError, EvalError
from ..operators import (
    INT_MIN,
    concat_lists,
    sub,
    update,
)
from ..printer import describe_value
from ..values import PrimOp, Thunk
from . import templates
from .bindings import BindingsCompiler
from .functions import FunctionsCompiler
from .lazy import Code, Const, Delay, SlotRef, maker_of, slot_getter
from .scope import Constant, Scope, Slot
from .strings import StringsCompiler

if TYPE_CHECKING:
    from ..context import EvalContext


_OP_TEXT = {op: op.value for op in A.BinaryOp}
"""Each operator's spelling (reading an enum's `.value` is slow in a hot compile loop)."""

_TEMPLATE_OPS = frozenset({"+", "-", "*", "/", "<", ">", "<=", ">=", "==", "!="})
"""Operators compiled through `templates.binop`."""


def _const(value: Any) -> Code:
    return lambda env: value


class Compiler(BindingsCompiler, FunctionsCompiler, StringsCompiler):
    """Compiles expressions for one evaluation context (builtins resolve to its values)."""

    def __init__(self, ctx: EvalContext) -> None:
        super().__init__(ctx)
        self._dispatch = {
            A.Int: self._literal, A.Float: self._literal, A.Str: self._literal,
            A.Path: self._path, A.Var: self._var, A.Apply: self._apply, A.If: self._if,
            A.Assert: self._assert, A.Not: self._not, A.Negate: self._negate,
            A.BinOp: self._binop, A.List: self._list, A.AttrSet: self._attrset,
            A.Let: self._let, A.With: self._with, A.Select: self._select,
            A.HasAttr: self._hasattr, A.Lambda: self._lambda_code,
            A.Interpolation: self._interpolation,
            A.PathInterpolation: self._path_interpolation,
            A.SearchPath: self._search_path, A.CurPos: self._curpos,
        }

    # ------------------------------------------------------------------ literals

    def _literal(self, node: A.Int | A.Float | A.Str, scope: Scope) -> Code:
        return _const(node.value)

    def _path(self, node: A.Path, scope: Scope) -> Code:
        return _const(self.ctx.make_path(node.value))

    # ------------------------------------------------------------------ variables

    def _var(self, node: A.Var, scope: Scope) -> Code:
        where = self.resolve(node, scope)
        if type(where) is Slot:
            return _forcing_slot(where.depth, where.index)
        if type(where) is Constant:
            value = where.value
            if type(value) is Thunk:
                return lambda env: value.force()
            return _const(value)
        return self.with_lookup(node.name, where.with_depths, node.span)  # type: ignore

    # ------------------------------------------------------------------ application

    def _apply(self, node: A.Apply, scope: Scope) -> Code:
        # `f a b c` arrives as Apply(Apply(Apply(f, a), b), c): one closure per step,
        # each specialised (templates.application) for its function and argument shape.
        args: list[A.Apply] = []
        head: A.Expr = node
        while type(head) is A.Apply:
            args.append(head)
            head = head.func
        args.reverse()
        function = self.operand(head, scope)
        operands = [self._argument(step.arg, scope) for step in args]
        code: Code | None = None
        primop = function[1] if function[0] == "const" else None
        if type(primop) is PrimOp and 0 < primop.arity <= len(args):
            arity = primop.arity
            code = templates.primop_call(primop, operands[:arity], args[arity - 1].span)
            args, operands = args[arity:], operands[arity:]
        for step, arg in zip(args, operands, strict=True):
            if code is not None:
                function = ("code", code)
            code = templates.application(function, arg, step.span)
        assert code is not None
        return code

    def _argument(self, node: A.Expr, scope: Scope) -> tuple[Any, ...]:
        """An argument as `templates.application` takes it."""
        lazy = self.lazy(node, scope, argument=True)
        if type(lazy) is Const:
            return ("const", lazy.value)
        if type(lazy) is SlotRef:
            return ("slot", lazy.depth, lazy.index)
        if type(lazy) is Delay:
            return ("thunk", lazy.code, lazy.span)
        return ("make", lazy.maker)  # type: ignore[union-attr]

    # ------------------------------------------------------------------ control

    def _if(self, node: A.If, scope: Scope) -> Code:
        then = self.compile(node.then, scope)
        else_ = self.compile(node.else_, scope)
        test = node.cond
        if type(test) is A.BinOp and _OP_TEXT[test.op] in templates.COMPARISONS:
            return templates.if_comparison(_OP_TEXT[test.op], self.operand(test.left, scope),
                                           self.operand(test.right, scope), then, else_,
                                           test.span)
        cond = self.compile(test, scope)
        span = test.span

        def if_(env: Any) -> Any:
            c = cond(env)
            if c is True:
                return then(env)
            if c is False:
                return else_(env)
            raise type_error("a Boolean", c, "the condition of 'if'").at(span)

        return if_

    def _assert(self, node: A.Assert, scope: Scope) -> Code:
        cond = self.compile(node.cond, scope)
        body = self.compile(node.body, scope)
        span = node.span
        cspan = node.cond.span
        text = cspan.source.text[cspan.start:cspan.end]

        def assert_(env: Any) -> Any:
            c = cond(env)
            if c is True:
                return body(env)
            if c is False:
                raise AssertionFailedError(f"assertion '{text}' failed", span)
            raise type_error("a Boolean", c, "the condition of 'assert'").at(cspan)

        return assert_

    def _not(self, node: A.Not, scope: Scope) -> Code:
        operand = self.compile(node.operand, scope)
        span = node.span

        def not_(env: Any) -> Any:
            v = operand(env)
            if v is True:
                return False
            if v is False:
                return True
            raise type_error("a Boolean", v, "the operand of '!'").at(span)

        return not_

    def _negate(self, node: A.Negate, scope: Scope) -> Code:
        operand = self.compile(node.operand, scope)
        span = node.span

        def negate(env: Any) -> Any:
            v = operand(env)
            if type(v) is int and v != INT_MIN:
                return -v
            try:
                return sub(0, v)
            except EvalError as error:
                raise error.at(span) from None

        return negate

    # ------------------------------------------------------------------ lists

    def _list(self, node: A.List, scope: Scope) -> Code:
        lazies = [self.lazy(item, scope) for item in node.items]
        if not lazies:
            return lambda env: []
        if all(type(lz) is Const for lz in lazies):
            template = [lz.value for lz in lazies]  # type: ignore[union-attr]
            return lambda env: template.copy()
        if all(type(lz) is Delay for lz in lazies):
            pairs = [(lz.code, lz.span) for lz in lazies]  # type: ignore[union-attr]
            return lambda env: [Thunk(code, env, span) for code, span in pairs]
        makers = [maker_of(lz) for lz in lazies]
        return lambda env: [make(env) for make in makers]

    # ------------------------------------------------------------------ operators

    def _binop(self, node: A.BinOp, scope: Scope) -> Code:
        op = node.op
        span = node.span
        if _OP_TEXT[op] in _TEMPLATE_OPS:
            return templates.binop(_OP_TEXT[op], self.operand(node.left, scope),
                                   self.operand(node.right, scope), span, self.ctx)
        left = self.compile(node.left, scope)
        right = self.compile(node.right, scope)
        if op is A.BinaryOp.AND:
            return _logic(left, right, node, False, False)
        if op is A.BinaryOp.OR:
            return _logic(left, right, node, True, True)
        if op is A.BinaryOp.IMPL:
            return _logic(left, right, node, False, True)
        if op is A.BinaryOp.CONCAT:
            return _concat(left, right, node)
        if op is A.BinaryOp.UPDATE:
            return _update(left, right, node)
        raise AssertionError(f"unknown operator {op}")


def _forcing_slot(depth: int, index: int) -> Code:
    """`env → the value of slot (depth, index)`, forced."""
    if depth == 0:
        def var0(env: Any) -> Any:
            v = env[index]
            if type(v) is Thunk:
                return v.value if v.code is None else v.force()
            return v
        return var0
    if depth == 1:
        def var1(env: Any) -> Any:
            v = env[0][index]
            if type(v) is Thunk:
                return v.value if v.code is None else v.force()
            return v
        return var1
    if depth == 2:
        def var2(env: Any) -> Any:
            v = env[0][0][index]
            if type(v) is Thunk:
                return v.value if v.code is None else v.force()
            return v
        return var2
    get = slot_getter(depth, index)

    def var(env: Any) -> Any:
        v = get(env)
        if type(v) is Thunk:
            return v.value if v.code is None else v.force()
        return v
    return var


def _logic(left: Code, right: Code, node: A.BinOp, short_on: bool, short_value: bool) -> Code:
    """`&&` (short_on False → False), `||` (True → True), `->` (False → True)."""
    op = node.op.value
    lspan = node.left.span
    rspan = node.right.span

    def logic(env: Any) -> Any:
        a = left(env)
        if a is short_on:
            return short_value
        if a is not (not short_on):
            raise type_error("a Boolean", a, f"the left operand of '{op}'").at(lspan)
        b = right(env)
        if b is True or b is False:
            return b
        raise type_error("a Boolean", b, f"the right operand of '{op}'").at(rspan)
    return logic


def _concat(left: Code, right: Code, node: A.BinOp) -> Code:
    lspan = node.left.span
    rspan = node.right.span

    def concat(env: Any) -> Any:
        a = left(env)
        if type(a) is not list:
            raise type_error("a list", a, "the left operand of '++'").at(lspan)
        b = right(env)
        if type(b) is not list:
            raise type_error("a list", b, "the right operand of '++'").at(rspan)
        return concat_lists(a, b)
    return concat


def _update(left: Code, right: Code, node: A.BinOp) -> Code:
    lspan = node.left.span
    rspan = node.right.span

    def update_(env: Any) -> Any:
        a = left(env)
        if type(a) is not dict:
            raise type_error("a set", a, "the left operand of '//'").at(lspan)
        b = right(env)
        if type(b) is not dict:
            raise type_error("a set", b, "the right operand of '//'").at(rspan)
        return update(a, b)
    return update_


__all__ = ["Compiler", "describe_value", "show_type"]
