"""Compiling attribute sets, `let`, `with`, selection (`e.a.b or d`) and `e ? a`.

A `let` or recursive set makes an environment `[parent, slot…]` whose slots hold the
bindings' values or Thunks (closed over that same environment, which is how recursion
works); a recursive set's dict shares those slot objects. A plain set needs no
environment: its Thunks close over the enclosing one. `inherit (src) a b;` evaluates
`src` once per instance: it gets a hidden slot.

Attribute values that are literals are stored as one shared, already-evaluated Thunk
carrying the attribute's position (so `unsafeGetAttrPos` and traces can find it at no
run-time cost); other attribute Thunks carry the binding's position too.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from ndx.lang import ast as A

from ..coerce import type_error
from ..errors import EvalError, MissingAttributeError, UndefinedVariableError
from ..values import ContextString, Thunk
from .core import NOT_CONSTANT, CompilerCore
from .lazy import Code, Const, Delay, Lazy, Make, SlotRef, env_walker, maker_of
from .scope import Scope


def did_you_mean(name: str, candidates: Any) -> str:
    """"; did you mean 'x'?" for the closest of `candidates`, or ""."""
    close = difflib.get_close_matches(name, [c for c in candidates if isinstance(c, str)],
                                      n=3, cutoff=0.6)
    if not close:
        return ""
    if len(close) == 1:
        return f"; did you mean '{close[0]}'?"
    quoted = ", ".join(f"'{c}'" for c in close[:-1])
    return f"; did you mean {quoted} or '{close[-1]}'?"


def missing_attribute(name: str, attrs: dict[str, Any]) -> MissingAttributeError:
    """"attribute 'redsi' missing; did you mean 'redis'?"."""
    return MissingAttributeError(f"attribute '{name}' missing{did_you_mean(name, attrs)}")


def _ready(value: Any, span: Any) -> Thunk:
    thunk = Thunk.ready(value)
    thunk.span = span
    return thunk


def attr_name(value: Any, span: Any) -> str:
    """A computed attribute name (`${e}`): the forced string, with no context."""
    if type(value) is str:
        return value
    if type(value) is ContextString:
        return value.text
    raise type_error("a string", value, "an attribute name").at(span)


class BindingsCompiler(CompilerCore):
    """Mixin of `Compiler`: sets, lets, with, select, has-attr."""

    # -------------------------------------------------------------- environments

    def _fillers(self, bindings: A.Bindings, scope: Scope,
                 inner: Scope) -> tuple[list[Any], Callable[[Any, Any], None] | None,
                                        list[tuple[int, Code, Any]] | None]:
        """Compile the static bindings of a `let` / recursive set living in `inner`'s
        environment (its parent is `scope`).

        Returns the initial slot values (constants, else None), a function
        `fill(new_env, outer_env)` filling the other slots, and — when every other slot
        is a plain Thunk in the new environment — that list of (slot, code, span) so the
        caller can inline the loop (`fill` is then None)."""
        sources = [inner.add_hidden_slot() for _ in bindings.inherit_sources]
        init: list[Any] = [None] * inner.size
        delays: list[tuple[int, Code, Any]] = []
        outer_delays: list[tuple[int, Code, Any]] = []
        makers: list[tuple[int, Code]] = []
        outer_refs: list[tuple[int, Callable[[Any], Any], int]] = []
        for slot, src in zip(sources, bindings.inherit_sources, strict=True):
            delays.append((slot, self.compile(src, inner), src.span))
        for binding in bindings.attrs:
            slot = inner.names[binding.name]
            kind = binding.kind
            if kind is A.BindingKind.INHERIT_FROM:
                source_slot = sources[binding.value.subject.index]  # type: ignore[union-attr]
                delays.append((slot, _select_slot(source_slot, binding.name), binding.span))
                continue
            outer = kind is A.BindingKind.INHERIT
            lazy = self.lazy(binding.value, scope if outer else inner, binding.name)
            t = type(lazy)
            if t is Const:
                init[slot - 1] = lazy.value  # type: ignore[union-attr]
            elif t is SlotRef and (outer or lazy.depth > 0):  # type: ignore[union-attr]
                # An alias of an already-complete outer environment's slot.
                depth = lazy.depth if outer else lazy.depth - 1  # type: ignore[union-attr]
                outer_refs.append((slot, env_walker(depth), lazy.index))  # type: ignore
            elif t is Make:
                makers.append((slot, lazy.maker))  # type: ignore[union-attr]
            elif t is SlotRef:
                # The same environment, whose slot may not be filled yet: delay.
                delays.append((slot, self.compile(binding.value, inner), binding.span))
            elif outer:
                outer_delays.append((slot, lazy.code, binding.span))  # type: ignore
            else:
                delays.append((slot, lazy.code, binding.span))  # type: ignore[union-attr]
        if not outer_delays and not makers and not outer_refs:
            return init, None, delays

        def fill(new_env: Any, env: Any) -> None:
            for slot, code, span in delays:
                new_env[slot] = Thunk(code, new_env, span)
            for slot, code, span in outer_delays:
                new_env[slot] = Thunk(code, env, span)
            for slot, maker in makers:
                new_env[slot] = maker(new_env)
            for slot, walk, index in outer_refs:
                new_env[slot] = walk(env)[index]

        return init, fill, None

    def _environment(self, bindings: A.Bindings, scope: Scope,
                     inner: Scope) -> Callable[[Any], Any]:
        """`make(env) -> new_env` for a `let` / recursive set (slots filled)."""
        init, fill, delays = self._fillers(bindings, scope, inner)
        init_t = tuple(init)
        if fill is not None:
            def make(env: Any) -> Any:
                new_env = [env, *init_t]
                fill(new_env, env)
                return new_env
            return make
        assert delays is not None
        if len(delays) == 1:
            (slot1, code1, span1), = delays

            def make1(env: Any) -> Any:
                new_env = [env, *init_t]
                new_env[slot1] = Thunk(code1, new_env, span1)
                return new_env
            return make1

        def make_delays(env: Any) -> Any:
            new_env = [env, *init_t]
            for slot, code, span in delays:
                new_env[slot] = Thunk(code, new_env, span)
            return new_env
        return make_delays

    # ------------------------------------------------------------------ let

    def _let(self, node: A.Let, scope: Scope) -> Code:
        bindings = node.bindings
        if bindings.dynamic:
            raise EvalError("dynamic attributes are not allowed in let",
                            bindings.dynamic[0].span)
        inner = scope.child([b.name for b in bindings.attrs])
        make = self._environment(bindings, scope, inner)
        body = self.compile(node.body, inner)
        return lambda env: body(make(env))

    # ------------------------------------------------------------------ sets

    def _attrset(self, node: A.AttrSet, scope: Scope) -> Code:
        if node.recursive:
            return self._rec_attrset(node, scope)
        bindings = node.bindings
        consts: dict[str, Thunk] = {}
        delays: list[tuple[str, Code, Any]] = []
        makers: list[tuple[str, Code, Any]] = []
        refs: list[tuple[str, Code]] = []
        source_delays: list[tuple[str, Code, Any]] = []
        for binding in bindings.attrs:
            if binding.kind is A.BindingKind.INHERIT_FROM:
                index = binding.value.subject.index  # type: ignore[union-attr]
                source_delays.append((binding.name, _select_slot(index + 1, binding.name),
                                      binding.span))
                continue
            lazy = self.lazy(binding.value, scope, binding.name)
            t = type(lazy)
            if t is Const:
                value = lazy.value  # type: ignore[union-attr]
                # A builtin that is itself still a Thunk (`derivation`) is stored as is.
                consts[binding.name] = value if type(value) is Thunk else \
                    _ready(value, binding.span)
            elif t is Delay:
                delays.append((binding.name, lazy.code, binding.span))  # type: ignore
            elif t is Make:
                makers.append((binding.name, lazy.maker, binding.span))  # type: ignore
            else:
                refs.append((binding.name, maker_of(lazy)))
        sources = [self.compile(src, scope) for src in bindings.inherit_sources]
        source_spans = [src.span for src in bindings.inherit_sources]
        dynamic = self._dynamic_bindings(bindings, scope)

        if not dynamic and not sources and not makers and not refs:
            if not delays:
                return lambda env: dict(consts)
            if not consts:
                return lambda env: {name: Thunk(code, env, span)
                                    for name, code, span in delays}

        def attrset(env: Any) -> Any:
            attrs = dict(consts)
            for name, code, span in delays:
                attrs[name] = Thunk(code, env, span)
            for name, maker, span in makers:
                attrs[name] = _ready(maker(env), span)
            for name, make in refs:
                attrs[name] = make(env)
            if sources:
                hidden = [env]
                hidden.extend(Thunk(src, env, sp)
                              for src, sp in zip(sources, source_spans, strict=True))
                for name, code, span in source_delays:
                    attrs[name] = Thunk(code, hidden, span)
            if dynamic:
                dynamic(env, attrs)
            return attrs

        return attrset

    def _rec_attrset(self, node: A.AttrSet, scope: Scope) -> Code:
        bindings = node.bindings
        names = [b.name for b in bindings.attrs]
        inner = scope.child(names)
        make = self._environment(bindings, scope, inner)
        spans = {b.name: b.span for b in bindings.attrs}
        slots = [(name, inner.names[name], spans[name]) for name in names]
        dynamic = self._dynamic_bindings(bindings, inner)
        overrides = inner.names.get("__overrides")

        def rec_attrset(env: Any) -> Any:
            new_env = make(env)
            attrs = {}
            for name, slot, span in slots:
                value = new_env[slot]
                attrs[name] = value if type(value) is Thunk else _ready(value, span)
            if dynamic:
                dynamic(new_env, attrs)
            if overrides is not None:
                _apply_overrides(new_env, attrs, inner.names, overrides)
            return attrs

        return rec_attrset

    def _dynamic_bindings(self, bindings: A.Bindings,
                          scope: Scope) -> Callable[[Any, dict[str, Any]], None] | None:
        """`add(env, attrs)` evaluating `${key} = value;` bindings, or None."""
        if not bindings.dynamic:
            return None
        items = [(self.compile(d.key, scope), d.key.span, maker_of(self.lazy(d.value, scope)),
                  d.span) for d in bindings.dynamic]

        def add(env: Any, attrs: dict[str, Any]) -> None:
            for key_code, key_span, make, span in items:
                key = key_code(env)
                if key is None:
                    continue
                name = attr_name(key, key_span)
                if name in attrs:
                    raise EvalError(f"dynamic attribute '{name}' already defined", span)
                value = make(env)
                if type(value) is Thunk and value.span is None:
                    value.span = span
                attrs[name] = value

        return add

    # ------------------------------------------------------------------ with

    def _with(self, node: A.With, scope: Scope) -> Code:
        namespace = maker_of(self.lazy(node.namespace, scope))
        body = self.compile(node.body, scope.with_scope())

        def with_(env: Any) -> Any:
            return body([env, namespace(env)])

        return with_

    def with_lookup(self, name: str, depths: tuple[int, ...], span: Any) -> Code:
        """A variable only `with`s can bind: search their namespaces, innermost first."""
        walkers = [env_walker(d) for d in depths]

        def lookup(env: Any) -> Any:
            for walk in walkers:
                scope_env = walk(env)
                attrs = scope_env[1]
                if type(attrs) is Thunk:
                    attrs = attrs.force()
                    scope_env[1] = attrs
                if type(attrs) is not dict:
                    raise type_error("a set", attrs, "the namespace of a 'with'").at(span)
                if name in attrs:
                    value = attrs[name]
                    if type(value) is Thunk:
                        return value.force()
                    return value
            raise UndefinedVariableError(f"undefined variable '{name}'", span)

        return lookup

    # ------------------------------------------------------------------ select

    def _keys(self, path: tuple[A.AttrKey, ...],
              scope: Scope) -> list[tuple[str | None, Code | None, Any]]:
        keys: list[tuple[str | None, Code | None, Any]] = []
        for key in path:
            if isinstance(key, str):
                keys.append((key, None, None))
            else:
                keys.append((None, self.compile(key, scope), key.span))
        return keys

    def _select(self, node: A.Select, scope: Scope) -> Code:
        known = self.constant_select(node, scope)
        if known is not NOT_CONSTANT:
            return lambda env: known
        subject = self.compile(node.subject, scope)
        keys = self._keys(node.path, scope)
        default = None if node.default is None else self.compile(node.default, scope)
        span = node.span
        if len(keys) == 1 and keys[0][0] is not None and default is None:
            from . import templates

            return templates.select(self.operand(node.subject, scope), keys[0][0], span,
                                    node.subject.span)
        path_text = ".".join(k if isinstance(k, str) else "${…}" for k in node.path)

        def select(env: Any) -> Any:
            value = subject(env)
            raw = None
            for name, key_code, key_span in keys:
                if key_code is not None:
                    name = attr_name(key_code(env), key_span)
                if type(value) is Thunk:
                    try:
                        value = value.force()
                    except EvalError as error:
                        _attribute_frame(error, raw, path_text)
                        raise
                if type(value) is not dict:
                    if default is not None:
                        return default(env)
                    raise type_error("a set", value,
                                     f"the subject of '.{name}'").at(span)
                raw = value.get(name, _MISSING)
                if raw is _MISSING:
                    if default is not None:
                        return default(env)
                    raise missing_attribute(name, value).at(span)  # type: ignore[arg-type]
                value = raw
            if type(value) is Thunk:
                try:
                    value = value.force()
                except EvalError as error:
                    _attribute_frame(error, raw, path_text)
                    raise
            return value

        return select

    def _hasattr(self, node: A.HasAttr, scope: Scope) -> Code:
        subject = self.compile(node.subject, scope)
        keys = self._keys(node.path, scope)

        def hasattr_(env: Any) -> Any:
            value = subject(env)
            for name, key_code, key_span in keys:
                if key_code is not None:
                    name = attr_name(key_code(env), key_span)
                if type(value) is Thunk:
                    value = value.force()
                if type(value) is not dict or name not in value:
                    return False
                value = value[name]
            return True

        return hasattr_


MISSING = object()
"""Marker for an absent attribute in `dict.get` (never an ndx value)."""
_MISSING = MISSING


def _apply_overrides(env: Any, attrs: dict[str, Any], slots: dict[str, int],
                     slot: int) -> None:
    """Nix's `rec { __overrides = { … }; … }`: the overriding values replace both the
    attributes and the variables the other attributes see."""
    value = env[slot]
    overrides = value.force() if type(value) is Thunk else value
    if type(overrides) is not dict:
        raise type_error("a set", overrides, "the '__overrides' attribute")
    for name, override in overrides.items():
        attrs[name] = override
        if name in slots:
            env[slots[name]] = override


def _attribute_frame(error: EvalError, raw: Any, path_text: str) -> None:
    span = raw.span if type(raw) is Thunk else None
    if span is not None:
        error.add_frame(f"while evaluating the attribute '{path_text}'", span)


def _select_slot(slot: int, name: str) -> Code:
    """`env → (forced env[slot]).name`: an `inherit (src) name;` binding."""
    def inherited(env: Any) -> Any:
        attrs = env[slot]
        if type(attrs) is Thunk:
            attrs = attrs.force()
        if type(attrs) is not dict:
            raise type_error("a set", attrs, f"the source of 'inherit {name}'")
        value = attrs.get(name, _MISSING)
        if value is _MISSING:
            raise missing_attribute(name, attrs)
        if type(value) is Thunk:
            return value.force()
        return value
    return inherited


__all__ = ["BindingsCompiler", "Lazy", "attr_name", "did_you_mean", "missing_attribute"]
