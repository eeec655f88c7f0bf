"""Hypothesis strategies for ASTs the parser can produce (so `unparse` must round-trip)."""

from __future__ import annotations

from hypothesis import strategies as st

from ndx.lang.ast import (
    Apply,
    Assert,
    AttrSet,
    BinaryOp,
    Binding,
    BindingKind,
    Bindings,
    BinOp,
    CurPos,
    DynamicBinding,
    Float,
    Formal,
    Formals,
    HasAttr,
    If,
    InheritSource,
    Int,
    Interpolation,
    Lambda,
    Let,
    List,
    Negate,
    Not,
    Path,
    PathInterpolation,
    SearchPath,
    Select,
    Str,
    Var,
    With,
)
from ndx.lang.builder import INT_MAX, SMALLEST_NORMAL
from ndx.lang.lexer import KEYWORDS
from ndx.lang.source import Source

SPAN = Source("«generated»", "", "/").span(0, 0)

# Any character but NUL (Nix stops reading at one) and lone surrogates (not encodable).
_TEXT_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")
_RESERVED = set(KEYWORDS) | {"__curPos"}
identifiers = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_'\-]{0,6}", fullmatch=True).filter(
    lambda name: name not in _RESERVED)
path_component = st.from_regex(r"[a-zA-Z0-9._+\-]{1,6}", fullmatch=True).filter(
    lambda c: c not in (".", ".."))
attribute_names = st.one_of(identifiers, st.text(_TEXT_CHARS,
                                                 max_size=6), st.just("or"))

leaves = st.one_of(
    st.integers(min_value=0, max_value=INT_MAX).map(lambda v: Int(v, SPAN)),
    st.floats(min_value=0, allow_nan=False, allow_infinity=False)
    .filter(lambda v: v == 0 or v >= SMALLEST_NORMAL).map(lambda v: Float(v, SPAN)),
    st.text(_TEXT_CHARS, max_size=8).map(lambda v: Str(v, SPAN)),
    identifiers.map(lambda v: Var(v, SPAN)),
    st.lists(path_component, max_size=3).map(lambda cs: Path("/" + "/".join(cs), SPAN)),
    st.lists(path_component, min_size=1, max_size=3).map(
        lambda cs: SearchPath("/".join(cs), SPAN)),
    st.just(CurPos(SPAN)),
)


def _dynamic_key(expr: object) -> object:
    # a Str key is static (`${"a"}` names `a`), so dynamic keys are anything else
    return Var("k", SPAN) if type(expr) is Str else expr


def _bindings(children: st.SearchStrategy, allow_dynamic: bool) -> st.SearchStrategy:
    item = st.one_of(
        st.tuples(st.just("plain"), attribute_names, children),
        st.tuples(st.just("inherit"), attribute_names),
        st.tuples(st.just("from"), children, st.lists(attribute_names, min_size=1, max_size=3)),
    )

    def build(items: list, dynamic: list) -> Bindings:
        attrs: list[Binding] = []
        sources = []
        seen: set[str] = set()
        for entry in items:
            if entry[0] == "plain":
                if entry[1] not in seen:
                    seen.add(entry[1])
                    attrs.append(Binding(entry[1], entry[2], BindingKind.PLAIN, SPAN))
            elif entry[0] == "inherit":
                if entry[1] not in seen:
                    seen.add(entry[1])
                    attrs.append(Binding(entry[1], Var(entry[1], SPAN), BindingKind.INHERIT,
                                         SPAN))
            else:
                names = [n for n in dict.fromkeys(entry[2]) if n not in seen]
                if not names:
                    continue
                index = len(sources)
                sources.append(entry[1])
                for name in names:
                    seen.add(name)
                    value = Select(InheritSource(index, SPAN), (name,), None, SPAN)
                    attrs.append(Binding(name, value, BindingKind.INHERIT_FROM, SPAN))
        dynamics = tuple(DynamicBinding(_dynamic_key(k), v, SPAN) for k, v in dynamic)
        return Bindings(tuple(attrs), dynamics if allow_dynamic else (), tuple(sources), SPAN)

    return st.builds(build, st.lists(item, max_size=4),
                     st.lists(st.tuples(children, children), max_size=2))


def _keys(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.one_of(attribute_names, children.map(_dynamic_key)), min_size=1,
                    max_size=3).map(tuple)


def _formals(children: st.SearchStrategy) -> st.SearchStrategy:
    def build(names: list[str], defaults: list, ellipsis: bool) -> Formals:
        params = tuple(Formal(name, default, SPAN)
                       for name, default in zip(names, defaults, strict=False))
        return Formals(params, ellipsis, SPAN)
    return st.builds(build, st.lists(identifiers, unique=True, max_size=3),
                     st.lists(st.none() | children, min_size=3, max_size=3), st.booleans())


def _lambda(param: str | None, formals: Formals | None, body: object) -> Lambda:
    if formals is None:
        param = param or "x"
    elif param is not None and any(f.name == param for f in formals.params):
        param = None
    return Lambda(param, formals, body, SPAN)


def _interpolation(parts: list) -> Interpolation:
    return Interpolation(tuple(parts), SPAN)


def _path_interpolation(prefix: list[str], slash: bool, expr: object, tail: list) -> object:
    text = "/" + "/".join(prefix) + ("/" if slash and prefix else "")
    return PathInterpolation((Str(text, SPAN), expr, *tail), SPAN)


def extend(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.builds(lambda op, a, b: BinOp(op, a, b, SPAN), st.sampled_from(list(BinaryOp)),
                  children, children),
        st.builds(lambda a: Not(a, SPAN), children),
        st.builds(lambda a: Negate(a, SPAN), children),
        st.builds(lambda f, a: Apply(f, a, SPAN), children, children),
        st.builds(lambda s, p, d: Select(s, p, d, SPAN), children, _keys(children),
                  st.none() | children),
        st.builds(lambda s, p: HasAttr(s, p, SPAN), children, _keys(children)),
        st.builds(lambda r, b: AttrSet(r, b, SPAN), st.booleans(), _bindings(children, True)),
        st.builds(lambda b, e: Let(b, e, SPAN), _bindings(children, False), children),
        st.builds(lambda n, b: With(n, b, SPAN), children, children),
        st.builds(lambda c, b: Assert(c, b, SPAN), children, children),
        st.builds(lambda c, a, b: If(c, a, b, SPAN), children, children, children),
        st.builds(lambda items: List(tuple(items), SPAN), st.lists(children, max_size=3)),
        st.builds(_lambda, st.none() | identifiers, st.none() | _formals(children), children),
        st.builds(_interpolation, st.lists(children, min_size=1, max_size=3)),
        st.builds(_path_interpolation, st.lists(path_component, max_size=2), st.booleans(),
                  children, st.lists(st.one_of(children, path_component.map(
                      lambda t: Str(t, SPAN))), max_size=2)),
    )


expressions = st.recursive(leaves, extend, max_leaves=12)
