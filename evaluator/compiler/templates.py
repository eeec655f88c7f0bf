"""Specialised closures for the hottest node shapes, generated from source templates.

An operator or a call whose operands are literals or variables should not pay a Python
call per operand. For each shape — which operator, and for each operand whether it is a
constant, a variable slot (depth, index), or general code — we generate the closure's
source once (cached by shape), with the variable reads and Thunk checks inlined:

    n - 1      →  def binop(env):
                      a = env[1]
                      if type(a) is Thunk: a = a.value if a.code is None else a.force()
                      b = R
                      if type(a) is int and type(b) is int: …

Generated code is only ever straight-line code over one node, so Python's compiler
limits (nesting depth) can never bite, however deep the program is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..coerce import type_error
from ..equality import equal_forced
from ..errors import EvalError
from ..operators import INT_MAX, INT_MIN, add, div, less_than, mul, sub, wrap_int
from ..runtime import CALL_SITE, apply
from ..values import Lambda, PrimOp, Thunk
from .bindings import MISSING, missing_attribute
from .functions import call_failed

Operand = tuple[Any, ...]
"""("const", value) | ("slot", depth, index) | ("code", code)."""

_GLOBALS = {
    "Thunk": Thunk, "Lambda": Lambda, "EvalError": EvalError, "INT_MIN": INT_MIN,
    "INT_MAX": INT_MAX, "wrap_int": wrap_int, "add": add, "sub": sub, "mul": mul,
    "div": div, "less_than": less_than, "equal_forced": equal_forced, "apply": apply,
    "call_failed": call_failed, "type_error": type_error, "CALL_SITE": CALL_SITE,
    "MISSING": MISSING, "missing_attribute": missing_attribute,
}

_CACHE: dict[tuple[Any, ...], Callable[..., Any]] = {}


def _shape(operand: Operand) -> tuple[Any, ...]:
    # The depth of a slot shapes the code; its index is a closure variable (so a
    # program with thousands of variables still needs only a handful of templates).
    if operand[0] == "slot":
        return operand[:2]
    return (operand[0],)


def _load(var: str, operand: Operand, name: str) -> list[str]:
    kind = operand[0]
    if kind == "const":
        return [f"{var} = {name}"]
    if kind == "slot":
        path = "env" + "[0]" * operand[1] + f"[{name}]"
        return [f"{var} = {path}",
                f"if type({var}) is Thunk: {var} = {var}.value if {var}.code is None "
                f"else {var}.force()"]
    return [f"{var} = {name}(env)"]


def _payload(operand: Operand) -> Any:
    return operand[2] if operand[0] == "slot" else operand[1]


def _build(key: tuple[Any, ...], params: str,
           lines: Callable[[], list[str]]) -> Callable[..., Any]:
    """The factory for `key`'s shape, generating its source (`lines()`) on first use."""
    factory = _CACHE.get(key)
    if factory is None:
        body = "\n".join("        " + line for line in lines())
        source = f"def make({params}):\n    def node(env):\n{body}\n    return node\n"
        namespace: dict[str, Any] = {}
        exec(compile(source, f"<ndx template {key[0]}>", "exec"), dict(_GLOBALS), namespace)
        factory = namespace["make"]
        _CACHE[key] = factory
    return factory


_ARITH = {
    "+": ("a + b", "add(a, b, ctx)"),
    "-": ("a - b", "sub(a, b)"),
    "*": ("a * b", "mul(a, b)"),
}
_COMPARE = {"<": ("a", "b", False), ">": ("b", "a", False), "<=": ("b", "a", True),
            ">=": ("a", "b", True)}


def _operator_lines(op: str) -> list[str]:
    """Lines computing `c = a op b` (a and b forced), for a comparison or equality;
    `c` is then a bool."""
    if op in _COMPARE:
        x, y, negate = _COMPARE[op]
        neg = "not " if negate else ""
        return [
            "if type(a) is int and type(b) is int:",
            f"    c = {neg}({x} < {y})",
            "else:",
            "    try:",
            f"        c = {neg}less_than({x}, {y})",
            "    except EvalError as error:",
            "        raise error.at(span)",
        ]
    if op in ("==", "!="):
        neg = "not " if op == "!=" else ""
        return [
            "t = type(a)",
            "if t is type(b) and (t is int or t is str):",
            f"    c = {neg}(a == b)",
            "else:",
            f"    c = {neg}equal_forced(a, b)",
        ]
    raise AssertionError(f"{op} is not a comparison")


COMPARISONS = frozenset({"<", ">", "<=", ">=", "==", "!="})
"""Operators whose result is always a Boolean (and which `if` can fuse with)."""


def binop(op: str, left: Operand, right: Operand, span: Any, ctx: Any) -> Callable[..., Any]:
    """A closure for `left op right` (op among + - * / < > <= >= == !=)."""
    key = ("binop", op, _shape(left), _shape(right))
    factory = _CACHE.get(key) or _build(key, "L, R, span, ctx",
                                        lambda: _binop_lines(op, left, right))
    return factory(_payload(left), _payload(right), span, ctx)  # type: ignore[no-any-return]


def _binop_lines(op: str, left: Operand, right: Operand) -> list[str]:
    lines = _load("a", left, "L") + _load("b", right, "R")
    if op in _ARITH:
        fast, slow = _ARITH[op]
        lines += [
            "if type(a) is int and type(b) is int:",
            f"    r = {fast}",
            "    if INT_MIN <= r <= INT_MAX: return r",
            "    return wrap_int(r)",
            "try:",
            f"    return {slow}",
            "except EvalError as error:",
            "    raise error.at(span)",
        ]
    elif op == "/":
        lines += ["try:", "    return div(a, b)", "except EvalError as error:",
                  "    raise error.at(span)"]
    else:
        lines += _operator_lines(op) + ["return c"]
    return lines


def if_comparison(op: str, left: Operand, right: Operand, then: Callable[..., Any],
                  else_: Callable[..., Any], span: Any) -> Callable[..., Any]:
    """A closure for `if left op right then … else …` with the comparison inlined (the
    condition of most recursive functions: `if n < 2 then …`)."""
    key = ("if", op, _shape(left), _shape(right))
    factory = _CACHE.get(key) or _build(key, "L, R, span, THEN, ELSE", lambda: [
        *_load("a", left, "L"), *_load("b", right, "R"), *_operator_lines(op),
        "if c:",
        "    return THEN(env)",
        "return ELSE(env)",
    ])
    return factory(_payload(left), _payload(right), span, then, else_)  # type: ignore


def select(subject: Operand, name: str, span: Any, subject_span: Any) -> Callable[..., Any]:
    """A closure for `subject.name` (one static attribute, no default)."""
    key = ("select", _shape(subject))
    factory = _CACHE.get(key) or _build(key, "S, NAME, FRAME, SUBJECT, span, subject_span",
                                        lambda: _load("s", subject, "S") + [
        "if type(s) is dict:",
        "    v = s.get(NAME, MISSING)",
        "    if type(v) is Thunk:",
        "        if v.code is None:",
        "            return v.value",
        "        try:",
        "            return v.force()",
        "        except EvalError as error:",
        "            if v.span is not None:",
        "                error.add_frame(FRAME, v.span)",
        "            raise",
        "    if v is not MISSING:",
        "        return v",
        "    raise missing_attribute(NAME, s).at(span)",
        "raise type_error('a set', s, SUBJECT).at(subject_span)",
    ])
    return factory(_payload(subject), name,  # type: ignore[no-any-return]
                   f"while evaluating the attribute '{name}'", f"the subject of '.{name}'",
                   span, subject_span)


def application(function: Operand, arg: Operand, span: Any) -> Callable[..., Any]:
    """A closure for `function arg`. `arg` is ("const", v), ("slot", d, i) (passed
    unforced), ("thunk", code, span) or ("make", maker)."""
    key = ("apply", _shape(function), _arg_shape(arg))
    kind = arg[0]
    factory = _CACHE.get(key) or _build(key, "F, A, ASPAN, span",
                                        lambda: _application_lines(function, arg))
    payload = arg[2] if kind == "slot" else arg[1]
    aspan = arg[2] if kind == "thunk" else None
    return factory(_payload(function), payload, aspan, span)  # type: ignore[no-any-return]


def _application_lines(function: Operand, arg: Operand) -> list[str]:
    lines = _load("f", function, "F")
    kind = arg[0]
    if kind == "const":
        lines.append("a = A")
    elif kind == "slot":
        lines.append("a = env" + "[0]" * arg[1] + "[A]")
    elif kind == "thunk":
        lines.append("a = Thunk(A, env, ASPAN)")
    else:
        lines.append("a = A(env)")
    lines += [
        "try:",
        "    if type(f) is Lambda:",
        "        body = f.body",
        "        if body is not None:",
        "            return body([f.env, a])",
        "        return f._call(a)",
        "    CALL_SITE.span = span",
        "    return apply(f, a)",
        "except EvalError as error:",
        "    raise call_failed(error, f, span)",
    ]
    return lines


def primop_call(primop: PrimOp, args: list[tuple[Any, ...]], span: Any) -> Callable[..., Any]:
    """A closure for `builtins.f a b …` given exactly the builtin's arity in arguments
    (`args` as for `application`): the arguments go straight to its implementation,
    without the partial applications in between (which cannot fail)."""
    key = ("primop", *(_arg_shape(arg) for arg in args))
    factory = _CACHE.get(key) or _build(key, "P, FN, " + ", ".join(
        f"A{i}, S{i}" for i in range(len(args))) + ", span",
        lambda: _primop_lines(args))
    payloads: list[Any] = []
    for arg in args:
        kind = arg[0]
        payloads += [arg[2] if kind == "slot" else arg[1], arg[2] if kind == "thunk" else None]
    return factory(primop, primop.fn, *payloads, span)  # type: ignore[no-any-return]


def _primop_lines(args: list[tuple[Any, ...]]) -> list[str]:
    lines: list[str] = []
    for i, arg in enumerate(args):
        kind = arg[0]
        if kind == "const":
            lines.append(f"a{i} = A{i}")
        elif kind == "slot":
            lines.append(f"a{i} = env" + "[0]" * arg[1] + f"[A{i}]")
        elif kind == "thunk":
            lines.append(f"a{i} = Thunk(A{i}, env, S{i})")
        else:
            lines.append(f"a{i} = A{i}(env)")
    names = ", ".join(f"a{i}" for i in range(len(args)))
    return lines + [
        "CALL_SITE.span = span",
        "try:",
        f"    r = FN({names})",
        "    if type(r) is Thunk: r = r.force()",
        "    return r",
        "except EvalError as error:",
        "    raise call_failed(error, P, span)",
    ]


def _arg_shape(arg: tuple[Any, ...]) -> tuple[Any, ...]:
    if arg[0] == "slot":
        return arg[:2]
    return (arg[0],)
