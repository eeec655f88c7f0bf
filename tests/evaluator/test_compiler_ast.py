"""The compiler on hand-built ASTs (independent of the parser)."""

from __future__ import annotations

from ndx.evaluator.context import EvalContext
from ndx.lang import ast as A
from ndx.lang.source import Source

SPAN = Source("t.ndx", "x" * 10, "/").span(0, 1)
Op = A.BinaryOp


def var(name: str) -> A.Var:
    return A.Var(name, SPAN)


def num(n: int) -> A.Int:
    return A.Int(n, SPAN)


def op(kind: A.BinaryOp, left: A.Expr, right: A.Expr) -> A.BinOp:
    return A.BinOp(kind, left, right, SPAN)


def app(f: A.Expr, x: A.Expr) -> A.Apply:
    return A.Apply(f, x, SPAN)


def let(body: A.Expr, **bindings: A.Expr) -> A.Let:
    attrs = tuple(A.Binding(k, v, A.BindingKind.PLAIN, SPAN) for k, v in bindings.items())
    return A.Let(A.Bindings(attrs, (), (), SPAN), body, SPAN)


def evaluate(expr: A.Expr) -> object:
    return EvalContext().program.evaluate_expr(expr)


def test_recursive_let_function() -> None:
    body = A.If(op(Op.LT, var("n"), num(2)), var("n"),
                op(Op.ADD, app(var("fib"), op(Op.SUB, var("n"), num(1))),
                   app(var("fib"), op(Op.SUB, var("n"), num(2)))), SPAN)
    expr = let(app(var("fib"), num(15)), fib=A.Lambda("n", None, body, SPAN))
    assert evaluate(expr) == 610


def test_lexical_binding_beats_with() -> None:
    namespace = A.AttrSet(False, A.Bindings(
        (A.Binding("x", num(2), A.BindingKind.PLAIN, SPAN),), (), (), SPAN), SPAN)
    expr = let(A.With(namespace, var("x"), SPAN), x=num(1))
    assert evaluate(expr) == 1
    assert evaluate(A.With(namespace, var("x"), SPAN)) == 2


def test_formals_defaults_see_each_other() -> None:
    formals = A.Formals((A.Formal("a", None, SPAN), A.Formal("b", op(Op.MUL, var("a"), num(2)),
                                                             SPAN)), False, SPAN)
    f = A.Lambda(None, formals, op(Op.ADD, var("a"), var("b")), SPAN)
    arg = A.AttrSet(False, A.Bindings((A.Binding("a", num(5), A.BindingKind.PLAIN, SPAN),),
                                      (), (), SPAN), SPAN)
    assert evaluate(app(f, arg)) == 15
