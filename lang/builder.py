"""The reductions of the grammar: each method builds the AST for one alternative.

`grammar/ndx.lark` names an alternative's builder with its alias (`-> binop`); the parser
calls it with the list of the alternative's values, as soon as the alternative is
recognised (no intermediate tree). Values are tokens (`(type, value, start, end)` tuples),
AST nodes, or the few intermediate shapes documented on the methods that make them.

Nodes are built directly (they are frozen dataclasses) with spans covering their whole
source text; static errors — duplicate attributes or formals, dynamic attributes where
Nix forbids them, out-of-range numbers — are raised here as `ParseError`s.
"""

from __future__ import annotations

import math
import os
from typing import Any

from .ast import (
    Apply,
    Assert,
    AttrSet,
    Bindings,
    BinOp,
    CurPos,
    Expr,
    Float,
    Formal,
    Formals,
    HasAttr,
    If,
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
from .bindings import BindsBuilder, KeyPart
from .diagnostics import Diagnostic
from .errors import ParseError
from .operators import BY_TERMINAL
from .source import Source, Span
from .strings import strip_indentation

Values = list[Any]

#: The largest integer literal (Nix integers are signed 64-bit).
INT_MAX = 2**63 - 1
#: The smallest positive normal double: a float literal below it (but not 0) is an error.
SMALLEST_NORMAL = 2.2250738585072014e-308
_EMPTY_BINDINGS: tuple[()] = ()


def canonical_path(path: str) -> str:
    """Nix's `canonPath`: an absolute path with `.`, `..`, repeated and trailing slashes
    removed (symbolic links are not resolved). `path` must be absolute."""
    if "//" not in path and "/." not in path and (len(path) == 1 or not path.endswith("/")):
        return path  # already canonical: the common case, without splitting
    parts: list[str] = []
    for part in path.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if parts:
                parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def home_directory() -> str:
    """The directory `~` stands for (Nix: $HOME, else the password database)."""
    return os.path.expanduser("~")


def _float_value(text: str) -> float | None:
    """The value of a float literal, or None where C's strtod reports a range error
    (overflow, or underflow to zero or a subnormal), which Nix rejects."""
    value = float(text)
    if math.isinf(value):
        return None
    if abs(value) < SMALLEST_NORMAL:
        mantissa = text.lower().split("e")[0]
        if any(c in "123456789" for c in mantissa):
            return None
    return value


class Builder:
    """Builds the AST of one source text."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.span = source.span
        self.base_dir = source.base_dir

    # ------------------------------------------------------------------- small helpers

    def _node_span(self, first: Any, last: Any) -> Span:
        """The span from the start of `first` to the end of `last` (tokens or nodes)."""
        start = first[2] if type(first) is tuple else first.span.start
        end = last[3] if type(last) is tuple else last.span.end
        return self.span(start, end)

    # ------------------------------------------------------------- functions and friends

    def lambda_ident(self, c: Values) -> Expr:
        return Lambda(c[0][1], None, c[2], self._node_span(c[0], c[2]))

    def lambda_formals(self, c: Values) -> Expr:
        return Lambda(None, self._formals(c[0], c[1], c[2], None), c[4],
                      self._node_span(c[0], c[4]))

    def lambda_no_formals(self, c: Values) -> Expr:
        return Lambda(None, self._formals(c[0], ([], False), c[1], None), c[3],
                      self._node_span(c[0], c[3]))

    def lambda_formals_at(self, c: Values) -> Expr:
        return Lambda(c[4][1], self._formals(c[0], c[1], c[2], c[4]), c[6],
                      self._node_span(c[0], c[6]))

    def lambda_no_formals_at(self, c: Values) -> Expr:
        return Lambda(c[3][1], self._formals(c[0], ([], False), c[1], c[3]), c[5],
                      self._node_span(c[0], c[5]))

    def lambda_at_formals(self, c: Values) -> Expr:
        return Lambda(c[0][1], self._formals(c[2], c[3], c[4], c[0]), c[6],
                      self._node_span(c[0], c[6]))

    def lambda_at_no_formals(self, c: Values) -> Expr:
        return Lambda(c[0][1], self._formals(c[2], ([], False), c[3], c[0]), c[5],
                      self._node_span(c[0], c[5]))

    def _formals(self, open_: Any, collected: tuple[list[Formal], bool], close: Any,
                 at_name: Any) -> Formals:
        """The set pattern; `collected` holds the formals last first (see formals_cons)."""
        params = collected[0][::-1]
        seen: dict[str, Formal] = {}
        for formal in params:
            earlier = seen.get(formal.name)
            if earlier is not None:
                raise _duplicate_formal(formal.name, formal.span, earlier.span)
            seen[formal.name] = formal
        if at_name is not None and at_name[1] in seen:
            name = at_name[1]
            raise _duplicate_formal(name, self.span(at_name[2], at_name[3]), seen[name].span)
        return Formals(tuple(params), collected[1], self._node_span(open_, close))

    def formals_last(self, c: Values) -> tuple[list[Formal], bool]:
        return [c[0]], False

    def formals_cons(self, c: Values) -> tuple[list[Formal], bool]:
        collected = c[2]
        collected[0].append(c[0])
        return collected  # type: ignore[no-any-return]

    def formals_ellipsis(self, c: Values) -> tuple[list[Formal], bool]:
        return [], True

    def formal(self, c: Values) -> Formal:
        token = c[0]
        return Formal(token[1], None, self.span(token[2], token[3]))

    def formal_default(self, c: Values) -> Formal:
        token = c[0]
        return Formal(token[1], c[2], self.span(token[2], token[3]))

    def assert_(self, c: Values) -> Expr:
        return Assert(c[1], c[3], self._node_span(c[0], c[3]))

    def with_(self, c: Values) -> Expr:
        return With(c[1], c[3], self._node_span(c[0], c[3]))

    def let(self, c: Values) -> Expr:
        builder: BindsBuilder = c[1]
        dynamic = builder.first_dynamic()
        if dynamic is not None:
            raise ParseError("dynamic attributes not allowed in let", dynamic,
                             code="E-parse-let-dynamic")
        bindings = builder.finish(True, self._node_span(c[0], c[2]))
        return Let(bindings, c[3], self._node_span(c[0], c[3]))

    def if_(self, c: Values) -> Expr:
        return If(c[1], c[3], c[5], self._node_span(c[0], c[5]))

    # ------------------------------------------------------------------------ operators

    def binop(self, c: Values) -> Expr:
        left = c[0]
        right = c[2]
        return BinOp(BY_TERMINAL[c[1][0]], left, right,
                     self.span(left.span.start, right.span.end))

    def has_attr(self, c: Values) -> Expr:
        subject = c[0]
        path = c[2]
        return HasAttr(subject, tuple([part[0] for part in path]),
                       self.span(subject.span.start, path[-1][2]))

    def negate(self, c: Values) -> Expr:
        return Negate(c[1], self.span(c[0][2], c[1].span.end))

    def not_(self, c: Values) -> Expr:
        return Not(c[1], self.span(c[0][2], c[1].span.end))

    def apply(self, c: Values) -> Expr:
        func = c[0]
        arg = c[1]
        return Apply(func, arg, self.span(func.span.start, arg.span.end))

    def select(self, c: Values) -> Expr:
        subject = c[0]
        path = c[2]
        return Select(subject, tuple([part[0] for part in path]), None,
                      self.span(subject.span.start, path[-1][2]))

    def select_or(self, c: Values) -> Expr:
        subject = c[0]
        default = c[4]
        return Select(subject, tuple([part[0] for part in c[2]]), default,
                      self.span(subject.span.start, default.span.end))

    def or_argument(self, c: Values) -> Expr:
        func = c[0]
        token = c[1]
        return Apply(func, Var("or", self.span(token[2], token[3])),
                     self.span(func.span.start, token[3]))

    # ---------------------------------------------------------------------------- atoms

    def var(self, c: Values) -> Expr:
        token = c[0]
        name = token[1]
        if name == "__curPos":
            return CurPos(self.span(token[2], token[3]))
        return Var(name, self.span(token[2], token[3]))

    def int_(self, c: Values) -> Expr:
        token = c[0]
        value = int(token[1])
        if value > INT_MAX:
            raise ParseError(f"invalid integer '{token[1]}'", self.span(token[2], token[3]),
                             notes=(Diagnostic("note", "integers are 64-bit: the largest is "
                                               f"{INT_MAX}"),),
                             code="E-parse-integer")
        return Int(value, self.span(token[2], token[3]))

    def float_(self, c: Values) -> Expr:
        token = c[0]
        value = _float_value(token[1])
        if value is None:
            raise ParseError(f"invalid float '{token[1]}'", self.span(token[2], token[3]),
                             notes=(Diagnostic("note", "the value is out of the range of a "
                                               "64-bit float"),),
                             code="E-parse-float")
        return Float(value, self.span(token[2], token[3]))

    def string(self, c: Values) -> Expr:
        token = c[0]
        return Str(token[1], self.span(token[2], token[3]))

    def string_piece(self, c: Values) -> Expr:
        token = c[0]
        return Str(token[1], self.span(token[2], token[3]))

    def interpolation(self, c: Values) -> Expr:
        return c[1]  # type: ignore[no-any-return]

    def string_interpolated(self, c: Values) -> Expr:
        return Interpolation(tuple(c[1]), self._node_span(c[0], c[2]))

    def ind_string(self, c: Values) -> Expr:
        token = c[0]
        return self._indented(token[1], self.span(token[2], token[3]))

    def ind_string_interpolated(self, c: Values) -> Expr:
        elements: list[Any] = []
        for part in c[1]:
            if type(part) is tuple:  # an IND_STR token: its pieces
                elements.extend(part[1])
            else:
                elements.append(part)
        return self._indented(elements, self._node_span(c[0], c[2]))

    def _indented(self, elements: list[Any], span: Span) -> Expr:
        parts: list[Expr] = []
        text: list[str] = []
        for part in strip_indentation(elements):
            if type(part) is str:
                text.append(part)
                continue
            if text:
                joined = "".join(text)
                if joined:
                    parts.append(Str(joined, span))
                text = []
            parts.append(part)  # type: ignore[arg-type]  # an expression
        joined = "".join(text)
        if not parts:
            return Str(joined, span)
        if joined:
            parts.append(Str(joined, span))
        return Interpolation(tuple(parts), span)

    def path(self, c: Values) -> Expr:
        token = c[0]
        raw: str = token[1]
        absolute = raw if raw[0] == "/" else self.base_dir + "/" + raw
        return Path(canonical_path(absolute), self.span(token[2], token[3]))

    def home_path(self, c: Values) -> Expr:
        token = c[0]
        return Path(home_directory() + token[1][1:], self.span(token[2], token[3]))

    def path_interpolated(self, c: Values) -> Expr:
        token = c[0]
        raw: str = token[1]
        if raw[0] == "~":
            prefix = home_directory() + raw[1:]
        else:
            absolute = raw if raw[0] == "/" else self.base_dir + "/" + raw
            prefix = canonical_path(absolute)
            if raw[-1] == "/" and len(raw) > 1:
                prefix += "/"
        first = Str(prefix, self.span(token[2], token[3]))
        return PathInterpolation((first, *c[1]), self._node_span(c[0], c[2]))

    def search_path(self, c: Values) -> Expr:
        token = c[0]
        return SearchPath(token[1][1:-1], self.span(token[2], token[3]))

    def uri(self, c: Values) -> Expr:
        token = c[0]
        return Str(token[1], self.span(token[2], token[3]))

    def parenthesised(self, c: Values) -> Expr:
        return c[1]  # type: ignore[no-any-return]

    # ---------------------------------------------------------------------- collections

    def list_(self, c: Values) -> Expr:
        return List(tuple(c[1]), self._node_span(c[0], c[2]))

    def list_empty(self, c: Values) -> list[Any]:
        return []

    def list_first(self, c: Values) -> list[Any]:
        return [c[0]]

    def list_append(self, c: Values) -> list[Any]:
        items: list[Any] = c[0]
        items.append(c[1])
        return items

    def set(self, c: Values) -> Expr:
        span = self._node_span(c[0], c[2])
        return AttrSet(False, c[1].finish(False, span), span)

    def rec_set(self, c: Values) -> Expr:
        span = self._node_span(c[0], c[3])
        return AttrSet(True, c[2].finish(True, span), span)

    def empty_set(self, c: Values) -> Expr:
        span = self._node_span(c[0], c[1])
        return AttrSet(False, Bindings(_EMPTY_BINDINGS, _EMPTY_BINDINGS, _EMPTY_BINDINGS, span),
                       span)

    def let_legacy(self, c: Values) -> Expr:
        span = self._node_span(c[0], c[3])
        body = AttrSet(True, c[2].finish(True, span), span)
        return Select(body, ("body",), None, span)

    # ------------------------------------------------------------------------- bindings

    def binds_empty(self, c: Values) -> BindsBuilder:
        return BindsBuilder(self.span)

    # `binds_x` adds to the bindings collected so far (c[0]), `binds_first_x` starts them.

    def binds_assign(self, c: Values) -> BindsBuilder:
        builder: BindsBuilder = c[0]
        builder.assign(c[1], c[3])
        return builder

    def binds_first_assign(self, c: Values) -> BindsBuilder:
        builder = BindsBuilder(self.span)
        builder.assign(c[0], c[2])
        return builder

    def binds_inherit(self, c: Values) -> BindsBuilder:
        builder: BindsBuilder = c[0]
        builder.inherit(c[2], None)
        return builder

    def binds_first_inherit(self, c: Values) -> BindsBuilder:
        builder = BindsBuilder(self.span)
        builder.inherit(c[1], None)
        return builder

    def binds_inherit_from(self, c: Values) -> BindsBuilder:
        builder: BindsBuilder = c[0]
        builder.inherit(c[5], c[3])
        return builder

    def binds_first_inherit_from(self, c: Values) -> BindsBuilder:
        builder = BindsBuilder(self.span)
        builder.inherit(c[4], c[2])
        return builder

    def names_append_name(self, c: Values) -> list[KeyPart]:
        names: list[KeyPart] = c[0]
        token = c[1]
        names.append((token[1], token[2], token[3]))
        return names

    # An attribute path is a list of KeyPart: (name or expression, start, end).

    def attrpath_first_name(self, c: Values) -> list[KeyPart]:
        token = c[0]
        return [(token[1], token[2], token[3])]

    def attrpath_append_name(self, c: Values) -> list[KeyPart]:
        path: list[KeyPart] = c[0]
        token = c[2]
        path.append((token[1], token[2], token[3]))
        return path

    def attrpath_append(self, c: Values) -> list[KeyPart]:
        path: list[KeyPart] = c[0]
        path.append(c[2])
        return path

    def key_name(self, c: Values) -> KeyPart:
        token = c[0]
        return token[1], token[2], token[3]

    def key_string_interpolated(self, c: Values) -> KeyPart:
        span = self._node_span(c[0], c[2])
        return Interpolation(tuple(c[1]), span), span.start, span.end

    def key_dynamic(self, c: Values) -> KeyPart:
        expr = c[1]
        key = expr.value if type(expr) is Str else expr
        return key, c[0][2], c[2][3]


def _duplicate_formal(name: str, span: Span, first: Span) -> ParseError:
    return ParseError(f"duplicate formal function argument '{name}'", span,
                      notes=(Diagnostic("note", f"'{name}' was first declared here", first),),
                      code="E-parse-duplicate-formal")
