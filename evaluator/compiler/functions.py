"""Compiling functions: `x: body` and `{ a, b ? d, ... }@args: body`.

A call makes the environment `[closure_env, arg]` (plain parameter) or
`[closure_env, args?, a, b, …]` (set pattern: the `@` name first, then the formals in
order). Formals take the argument set's own values or Thunks; a missing one with a
default gets a Thunk of the default in the call's environment (defaults may refer to
each other and to the `@` name).
"""

from __future__ import annotations

from typing import Any

from ndx.lang import ast as A

from ..coerce import type_error
from ..errors import EvalError, FunctionCallError
from ..values import Lambda, PrimOp, PrimOpApp, Thunk
from .bindings import did_you_mean
from .core import CompilerCore
from .lazy import Code, Delay, SlotRef, maker_of
from .scope import Scope


def describe_function(f: Any) -> str:
    """How a trace names a function: "'name'", "an anonymous function", "the builtin
    'head'"."""
    t = type(f)
    if t is Lambda:
        return f"'{f.name}'" if f.name else "an anonymous function"
    if t is PrimOp:
        return f"the builtin '{f.name}'"
    if t is PrimOpApp:
        return f"the builtin '{f.primop.name}'"
    return "a functor set"


def call_failed(error: EvalError, f: Any, span: Any) -> EvalError:
    """Locate an error raised while calling `f` at `span` and record the call frames
    ("while calling 'f'" at the function, "from call site" at the call)."""
    if error.span is None:
        error.span = span
        return error
    if type(f) is Lambda and not _internal(f.span):
        error.add_frame(f"while calling {describe_function(f)}", f.span)
        error.add_frame("from call site", span)
    return error


def _internal(span: Any) -> bool:
    """Whether a span is in ndx's own `derivation` wrapper (left out of traces, as Nix
    leaves out its derivation.nix)."""
    return span is not None and span.source.name == "«derivation»"


_MISSING = object()


class FunctionsCompiler(CompilerCore):
    """Mixin of `Compiler`: lambdas."""

    def _lambda_code(self, node: A.Lambda, scope: Scope) -> Code:
        return self.lambda_maker(node, scope, None)

    def lambda_maker(self, node: A.Lambda, scope: Scope,
                     name: str | None) -> Code:
        """`make(env) -> Lambda` for a function literal (named by its binding)."""
        span = node.span
        if node.formals is None:
            inner = scope.child([node.param or ""])
            body = self.compile(node.body, inner)

            def make_plain(env: Any) -> Lambda:
                return Lambda(None, span, name, None, False, body, env)

            return make_plain
        return self._formals_maker(node, scope, name)

    def _formals_maker(self, node: A.Lambda, scope: Scope,
                       name: str | None) -> Code:
        formals = node.formals
        assert formals is not None
        span = node.span
        names = ([node.param] if node.param else []) + [p.name for p in formals.params]
        inner = scope.child(names)
        has_param = node.param is not None
        first = 2 if has_param else 1
        params: list[tuple[str, int, Any]] = []
        for i, param in enumerate(formals.params):
            # None (required), (code, span) for a default to delay, or a maker.
            default: Any = None
            if param.default is not None:
                lazy = self.lazy(param.default, inner)
                if type(lazy) is SlotRef and lazy.depth == 0:
                    # Another formal of this call, which may not be filled in yet.
                    lazy = Delay(self.compile(param.default, inner), param.default.span)
                if type(lazy) is Delay:
                    default = (lazy.code, lazy.span)
                else:
                    default = maker_of(lazy)
            params.append((param.name, first + i, default))
        formal_names = frozenset(p.name for p in formals.params)
        ellipsis = formals.ellipsis
        signature = tuple((p.name, p.default is not None) for p in formals.params)
        body = self.compile(node.body, inner)
        size = len(names)
        label = f"function '{name}'" if name else "anonymous function"

        def make(env: Any) -> Lambda:
            def call(arg: Any) -> Any:
                attrs = arg.force() if type(arg) is Thunk else arg
                if type(attrs) is not dict:
                    raise _with_definition(
                        type_error("a set", attrs, f"the argument of {label}"), span)
                new_env = [env] + [None] * size
                if has_param:
                    new_env[1] = arg
                used = 0
                for pname, slot, default in params:
                    value = attrs.get(pname, _MISSING)
                    if value is not _MISSING:
                        used += 1
                        new_env[slot] = value
                    elif default is None:
                        raise _with_definition(FunctionCallError(
                            f"{label} called without required argument '{pname}'"), span)
                    elif type(default) is tuple:
                        new_env[slot] = Thunk(default[0], new_env, default[1])
                    else:
                        new_env[slot] = default(new_env)
                if not ellipsis and used != len(attrs):
                    for key in attrs:
                        if key not in formal_names:
                            raise _with_definition(FunctionCallError(
                                f"{label} called with unexpected argument '{key}'"
                                f"{did_you_mean(key, formal_names)}"), span)
                return body(new_env)

            return Lambda(call, span, name, signature, ellipsis)

        return make


def _with_definition(error: EvalError, span: Any) -> EvalError:
    error.add_frame("the function is defined here", span)
    return error
