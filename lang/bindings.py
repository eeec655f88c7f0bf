"""The bindings of a set or `let`: merging dotted keys and `inherit` the way Nix does.

Nix builds a set's attributes one binding at a time (`addAttr` in its parser), and ndx
follows it exactly, because programs depend on the details:

* `a.b = 1; a.c = 2;` creates one nested (non-recursive) set `a`;
* a dotted key descends into an earlier `a = { … };` or `a = rec { … };` literal and adds
  to it (the literal keeps its `rec`);
* `a = { … }; a = { … };` (two set literals, in either order with dotted keys) merges the
  second's static attributes into the first — the second's `rec`, dynamic attributes and
  all are dropped, as in Nix 2.8;
* anything else defined twice is an error, located at the second definition with a note
  at the first;
* a dynamic key (`${e}` or `"a${e}"`) never merges: each one makes its own nested set.
"""

from __future__ import annotations

from collections.abc import Callable

from .ast import (
    AttrKey,
    AttrSet,
    Binding,
    BindingKind,
    Bindings,
    DynamicBinding,
    Expr,
    InheritSource,
    Select,
    Var,
)
from .diagnostics import Diagnostic
from .errors import ParseError
from .source import Span

KeyPart = tuple[AttrKey, int, int]
"""One component of an attribute path with its source offsets."""

_PLAIN = BindingKind.PLAIN
_INHERIT = BindingKind.INHERIT
_INHERIT_FROM = BindingKind.INHERIT_FROM


class _Set:
    """A set under construction: a set literal being parsed, a nested set made by dotted
    keys, or an earlier set literal that a dotted key reopened."""

    __slots__ = ("attrs", "dynamic", "recursive", "sources", "span")

    def __init__(self, span: Span, recursive: bool = False) -> None:
        # name -> a finished Binding, or a _Nested whose set is still open
        self.attrs: dict[str, Binding | _Nested] = {}
        self.dynamic: list[DynamicBinding | _Nested] = []
        self.sources: list[Expr] = []
        self.recursive = recursive
        self.span = span


class _Nested:
    """A binding (static or dynamic) whose value is a `_Set` still open to additions."""

    __slots__ = ("key", "span", "value")

    def __init__(self, key: AttrKey, value: _Set, span: Span) -> None:
        self.key = key
        self.value = value
        self.span = span


def _reopen(node: AttrSet) -> _Set:
    """A finished set literal as a `_Set` again, so a later dotted key can add to it."""
    reopened = _Set(node.span, node.recursive)
    bindings = node.bindings
    reopened.attrs = {binding.name: binding for binding in bindings.attrs}
    reopened.dynamic = list(bindings.dynamic)
    reopened.sources = list(bindings.inherit_sources)
    return reopened


def _show_path(path: list[KeyPart]) -> str:
    return ".".join(key if type(key) is str else "${…}" for key, _, _ in path)


class BindsBuilder:
    """Collects the bindings of one set or `let`, in source order."""

    __slots__ = ("_span", "root")

    def __init__(self, span: Callable[[int, int], Span], start: int = 0) -> None:
        self._span = span
        self.root = _Set(span(start, start))

    # ------------------------------------------------------------------ adding bindings

    def assign(self, path: list[KeyPart], value: Expr) -> None:
        """`a.b.c = value;`"""
        span = self._span
        target = self.root
        for index in range(len(path) - 1):
            key, start, end = path[index]
            if type(key) is not str:
                nested = _Set(span(start, end))
                target.dynamic.append(_Nested(key, nested, nested.span))
                target = nested
                continue
            existing = target.attrs.get(key)
            if existing is None:
                nested = _Set(span(start, end))
                target.attrs[key] = _Nested(key, nested, nested.span)
                target = nested
            elif isinstance(existing, _Nested):
                target = existing.value
            elif existing.kind is _PLAIN and type(existing.value) is AttrSet:
                nested = _reopen(existing.value)
                target.attrs[key] = _Nested(key, nested, existing.span)
                target = nested
            else:
                raise self._duplicate(path, path[index], existing.span)
        key, start, end = path[-1]
        if type(key) is not str:
            target.dynamic.append(DynamicBinding(key, value, span(start, end)))  # type: ignore[arg-type]
            return
        existing = target.attrs.get(key)
        if existing is None:
            target.attrs[key] = Binding(key, value, _PLAIN, span(start, end))
            return
        if type(value) is AttrSet:
            if isinstance(existing, _Nested):
                self._merge(existing.value, value, path)
                return
            if existing.kind is _PLAIN and type(existing.value) is AttrSet:
                reopened = _reopen(existing.value)
                target.attrs[key] = _Nested(key, reopened, existing.span)
                self._merge(reopened, value, path)
                return
        raise self._duplicate(path, path[-1], existing.span)

    def inherit(self, names: list[KeyPart], source: Expr | None) -> None:
        """`inherit a b;` (source None) or `inherit (source) a b;`."""
        span = self._span
        root = self.root
        index = len(root.sources)
        if source is not None and names:
            root.sources.append(source)
        for part in names:
            name, start, end = part
            if type(name) is not str:
                raise ParseError("dynamic attributes not allowed in inherit", span(start, end),
                                 code="E-parse-inherit-dynamic")
            existing = root.attrs.get(name)
            if existing is not None:
                raise self._duplicate([part], part, existing.span)
            name_span = span(start, end)
            if source is None:
                root.attrs[name] = Binding(name, Var(name, name_span), _INHERIT, name_span)
            else:
                value = Select(InheritSource(index, name_span), (name,), None, name_span)
                root.attrs[name] = Binding(name, value, _INHERIT_FROM, name_span)

    def _merge(self, target: _Set, literal: AttrSet, path: list[KeyPart]) -> None:
        """Add the static attributes of `literal` to the open set `target` (Nix drops
        the literal's dynamic attributes and `rec` here)."""
        offset = len(target.sources)
        bindings = literal.bindings
        target.sources.extend(bindings.inherit_sources)
        for binding in bindings.attrs:
            existing = target.attrs.get(binding.name)
            if existing is not None:
                inner = binding.span
                part: KeyPart = (binding.name, inner.start, inner.end)
                raise self._duplicate(path + [part], part, existing.span)
            if binding.kind is _INHERIT_FROM and offset:
                old = binding.value
                assert type(old) is Select and type(old.subject) is InheritSource
                source = InheritSource(old.subject.index + offset, old.subject.span)
                binding = Binding(binding.name, Select(source, old.path, None, old.span),
                                  _INHERIT_FROM, binding.span)
            target.attrs[binding.name] = binding

    def _duplicate(self, path: list[KeyPart], at: KeyPart, first: Span) -> ParseError:
        shown = _show_path(path[:path.index(at) + 1] if at in path else path)
        return ParseError(
            f"attribute '{shown}' already defined at {first}", self._span(at[1], at[2]),
            notes=(Diagnostic("note", f"'{shown}' was first defined here", first),),
            code="E-parse-duplicate-attribute")

    # ------------------------------------------------------------------------ finishing

    def finish(self, recursive: bool, span: Span) -> Bindings:
        """The finished bindings, every nested set closed."""
        root = self.root
        root.recursive = recursive
        root.span = span
        return _close(root).bindings

    def first_dynamic(self) -> Span | None:
        """Where the first dynamic binding at the top is (they are not allowed in `let`)."""
        dynamic = self.root.dynamic
        return dynamic[0].span if dynamic else None


def _close(root: _Set) -> AttrSet:
    """Turn `root` and the open sets inside it into AST nodes, innermost first (by hand,
    not by recursion: a long dotted key nests as deep as it is long)."""
    order: list[_Set] = []
    pending = [root]
    while pending:
        current = pending.pop()
        order.append(current)
        for entry in current.attrs.values():
            if type(entry) is _Nested:
                pending.append(entry.value)
        for item in current.dynamic:
            if type(item) is _Nested:
                pending.append(item.value)
    closed: dict[int, AttrSet] = {}
    for current in reversed(order):
        attrs = tuple(
            Binding(entry.key, closed[id(entry.value)], _PLAIN, entry.span)  # type: ignore[arg-type]
            if type(entry) is _Nested else entry
            for entry in current.attrs.values())
        dynamic = tuple(
            DynamicBinding(item.key, closed[id(item.value)], item.span)  # type: ignore[arg-type]
            if type(item) is _Nested else item
            for item in current.dynamic)
        bindings = Bindings(attrs, dynamic, tuple(current.sources), current.span)  # type: ignore[arg-type]
        closed[id(current)] = AttrSet(current.recursive, bindings, current.span)
    return closed[id(root)]

