"""The typed AST the parser produces and the evaluator compiles.

The tree is already *desugared* where the desugaring is purely syntactic, so the evaluator
sees a small core:

* dotted keys are merged into nested attribute sets (`a.b = 1; a.c = 2;` becomes
  `a = { b = 1; c = 2; };`), duplicates are parse errors;
* `inherit` becomes ordinary bindings whose `kind` says where the name is looked up;
* string and path interpolation become `Interpolation` / `PathInterpolation`;
  indented strings arrive with their indentation already stripped;
* relative and home paths are resolved to absolute, canonical paths at parse time;
* the legacy `let { body = e; … }` is `Select(AttrSet(recursive=True, …), ("body",))`.

Every node is a frozen, slotted dataclass whose last field is `span`, excluded from
comparison and repr, so tests compare structure without positions. Each node's docstring
shows the surface syntax it stands for.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TypeAlias

from .source import Span


class Node:
    """Base class of every AST node."""

    __slots__ = ()
    span: Span


def _span() -> Span:
    # A dataclass field for the span: required, never compared, never in repr.
    return field(compare=False, repr=False)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- literals


@dataclass(frozen=True, slots=True)
class Int(Node):
    """`42` — a 64-bit signed integer literal."""

    value: int
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Float(Node):
    """`1.5`, `.5`, `1e3`, `2.5e-3` — a float literal."""

    value: float
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Str(Node):
    """`"text"`, `''text''` or a URI `http://example.org/a?b=c` — a string with no
    interpolation (escapes already decoded, indentation already stripped)."""

    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Interpolation(Node):
    """`"a${b}c"` or `''a${b}c''` — a string built from parts.

    Parts are `Str` pieces and arbitrary expressions; each expression is coerced to a
    string the way Nix's `"${…}"` does (strings, paths — copied to the store —, and sets
    with `outPath` or `__toString`; not integers)."""

    parts: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Path(Node):
    """`./a`, `../a/b`, `/abs/p`, `~/x` — a path literal, already absolute and canonical."""

    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class PathInterpolation(Node):
    """`./${x}.ndx`, `/etc/${name}` — a path with interpolation.

    `parts[0]` is a `Str` holding the absolute literal prefix (keeping a trailing slash,
    e.g. `"/home/u/proj/"`); the result is a path, canonicalised after concatenation."""

    parts: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SearchPath(Node):
    """`<nixpkgs>`, `<ndx/lib>` — looked up in the search path (`-I`, `NDX_PATH`) via
    `__findFile __nixPath "name"`, as in Nix."""

    name: str
    span: Span = _span()


# --------------------------------------------------------------------- names and sets


@dataclass(frozen=True, slots=True)
class Var(Node):
    """`x` — a variable reference (lexical first, then enclosing `with`s)."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class CurPos(Node):
    """`__curPos` — the position of this expression as `{ file; line; column; }`."""

    span: Span = _span()


AttrKey: TypeAlias = "str | Expr"
"""One component of an attribute path: a static name, or an expression producing a name
(`${e}`, or a string with interpolation). `"quoted"` and `${"const"}` keys are static."""


@dataclass(frozen=True, slots=True)
class Select(Node):
    """`e.a.b` or `e.a.${k} or default` — attribute selection along a path."""

    subject: Expr
    path: tuple[AttrKey, ...]
    default: Expr | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class HasAttr(Node):
    """`e ? a.b.${k}` — whether the attribute path exists."""

    subject: Expr
    path: tuple[AttrKey, ...]
    span: Span = _span()


class BindingKind(enum.Enum):
    """Where a binding's value is evaluated."""

    PLAIN = "plain"
    """`name = value;` — `value` evaluates in the set's own scope (recursive sets, lets)
    or in the enclosing scope (plain sets)."""

    INHERIT = "inherit"
    """`inherit name;` — `value` is `Var(name)` looked up in the scope *enclosing* the set
    or let, never in the set itself (so `let inherit x; in …` is not recursive)."""

    INHERIT_FROM = "inherit_from"
    """`inherit (src) name;` — `value` is `Select(InheritSource(i), (name,), None)`; the
    source expression is evaluated once per instance of the set."""


@dataclass(frozen=True, slots=True)
class Binding(Node):
    """One static binding `name = value;` (after merging dotted keys and `inherit`)."""

    name: str
    value: Expr
    kind: BindingKind
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DynamicBinding(Node):
    """`${key} = value;` or `"a${b}" = value;` — a binding whose name is computed.
    Not allowed in `let`. Dotted dynamic keys nest: `${k}.x = 1;` has value `{ x = 1; }`."""

    key: Expr
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class InheritSource(Node):
    """Reference to `Bindings.inherit_sources[index]`, shared by every name of one
    `inherit (src) a b;`. Evaluated in the set's scope when the set is recursive or a
    let, else in the enclosing scope."""

    index: int
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Bindings(Node):
    """The body of a set or let: static bindings in source order (names unique),
    dynamic bindings in source order, and the `inherit (src)` source expressions."""

    attrs: tuple[Binding, ...]
    dynamic: tuple[DynamicBinding, ...]
    inherit_sources: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class AttrSet(Node):
    """`{ a = 1; }` or `rec { a = 1; b = a; }` — an attribute set literal."""

    recursive: bool
    bindings: Bindings
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Let(Node):
    """`let a = 1; b = a; in body` — recursive local bindings (no dynamic keys)."""

    bindings: Bindings
    body: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class With(Node):
    """`with e; body` — brings e's attributes into scope, weaker than lexical names."""

    namespace: Expr
    body: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class List(Node):
    """`[ a b c ]` — a list; elements are select-level expressions."""

    items: tuple[Expr, ...]
    span: Span = _span()


# ------------------------------------------------------------------------- functions


@dataclass(frozen=True, slots=True)
class Formal(Node):
    """`b ? 1` inside `{ a, b ? 1, ... }:` — one named parameter with optional default.
    Defaults evaluate in the function's scope and may refer to the other formals."""

    name: str
    default: Expr | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Formals(Node):
    """`{ a, b ? 1, ... }` — a set pattern; `ellipsis` allows extra attributes."""

    params: tuple[Formal, ...]
    ellipsis: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Lambda(Node):
    """`x: body`, `{ a, ... }: body`, `args@{ a }: body`, `{ a }@args: body`.

    `param` is the plain or `@`-bound name (None when absent); `formals` the set pattern
    (None for a plain `x:` function)."""

    param: str | None
    formals: Formals | None
    body: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Apply(Node):
    """`f x` — application of one argument (`f x y` is `Apply(Apply(f, x), y)`)."""

    func: Expr
    arg: Expr
    span: Span = _span()


# ------------------------------------------------------------------ control and logic


@dataclass(frozen=True, slots=True)
class If(Node):
    """`if c then a else b`."""

    cond: Expr
    then: Expr
    else_: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Assert(Node):
    """`assert c; body` — fails with "assertion … failed" unless c is true."""

    cond: Expr
    body: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Not(Node):
    """`!e` — boolean negation."""

    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Negate(Node):
    """`-e` — arithmetic negation (Nix: `__sub 0 e`)."""

    operand: Expr
    span: Span = _span()


class BinaryOp(enum.Enum):
    """Binary operators, by their surface spelling."""

    CONCAT = "++"
    MUL = "*"
    DIV = "/"
    ADD = "+"
    SUB = "-"
    UPDATE = "//"
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="
    AND = "&&"
    OR = "||"
    IMPL = "->"


@dataclass(frozen=True, slots=True)
class BinOp(Node):
    """`a + b`, `a // b`, `a -> b`, … — see `BinaryOp`."""

    op: BinaryOp
    left: Expr
    right: Expr
    span: Span = _span()


Expr: TypeAlias = (
    Int | Float | Str | Interpolation | Path | PathInterpolation | SearchPath | Var | CurPos
    | Select | HasAttr | AttrSet | Let | With | List | Lambda | Apply | If | Assert | Not
    | Negate | BinOp | InheritSource
)
"""Any expression node."""
