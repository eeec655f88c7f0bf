"""`unparse`: an AST back to ndx source that parses to the same AST.

The output is one line with the fewest parentheses the precedence rules allow; strings
are always written double-quoted (indented strings were already stripped), paths as the
absolute paths the parser resolved them to, and `inherit (src) a b;` keeps its grouping.
"""

from __future__ import annotations

import re

from .ast import (
    Apply,
    Assert,
    AttrKey,
    AttrSet,
    BindingKind,
    Bindings,
    BinOp,
    CurPos,
    Expr,
    Float,
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
from .deep import deep
from .lexer import KEYWORDS
from .operators import BINARY_OPERATORS, Level

#: A whole identifier (an attribute name that needs no quotes unless a keyword).
IDENTIFIER = re.compile(r"[a-zA-Z_][a-zA-Z0-9_'\-]*\Z")
_PATH_TEXT = re.compile(r"[a-zA-Z0-9._+\-/]+\Z")

_STRING_ESCAPES = {'"': '\\"', "\\": "\\\\", "$": "\\$", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_STRING_SPECIAL = re.compile(r'["\\$\n\r\t]')


def unparse(expr: Expr) -> str:
    """Source text for `expr` (one line)."""
    return deep(_Printer().expr, expr, 0, what="print")


def string_literal(text: str) -> str:
    """`text` as a double-quoted ndx string."""
    return '"' + _STRING_SPECIAL.sub(lambda m: _STRING_ESCAPES[m.group()], text) + '"'


def attribute_name(name: str) -> str:
    """An attribute name as written in a key: bare when it can be, else quoted."""
    if name == "or" or (IDENTIFIER.match(name) and name not in KEYWORDS):
        return name
    return string_literal(name)


def _level(expr: Expr) -> int:
    kind = type(expr)
    if kind is BinOp:
        return BINARY_OPERATORS[expr.op].level  # type: ignore[union-attr]
    if kind is Not:
        return Level.NOT
    if kind is Negate:
        return Level.NEG
    if kind is HasAttr:
        return Level.HAS
    if kind is Apply:
        return Level.APP
    if kind is Select:
        return Level.SELECT
    if kind in (Lambda, Let, With, Assert, If):
        return Level.FUNCTION
    return Level.SIMPLE


class _Printer:
    def expr(self, expr: Expr, at_least: int) -> str:
        """`expr`, bracketed unless its level is at least `at_least`."""
        text = self._bare(expr)
        return text if _level(expr) >= at_least else f"({text})"

    def _bare(self, expr: Expr) -> str:
        kind = type(expr)
        method = getattr(self, "_" + kind.__name__.lower())
        return method(expr)  # type: ignore[no-any-return]

    # ---------------------------------------------------------------------------- atoms

    def _int(self, expr: Int) -> str:
        return str(expr.value)

    def _float(self, expr: Float) -> str:
        text = repr(expr.value)
        mantissa, e, exponent = text.partition("e")
        if "." not in mantissa:
            mantissa += ".0"
        return mantissa + e + exponent

    def _str(self, expr: Str) -> str:
        return string_literal(expr.value)

    def _interpolation(self, expr: Interpolation) -> str:
        parts = expr.parts
        # Which Str parts can be written as plain text: not two in a row (they would read
        # back as one), and not all of them (a string without `${…}` is a Str).
        raw: list[bool] = []
        previous_text = False
        for part in parts:
            as_text = type(part) is Str and bool(part.value) and not previous_text
            raw.append(as_text)
            previous_text = as_text
        if all(raw):
            raw[-1] = False
        out = ['"']
        for part, as_text in zip(parts, raw, strict=True):
            if as_text:
                out.append(string_literal(part.value)[1:-1])  # type: ignore[union-attr,arg-type]
            else:
                out.append("${" + self.expr(part, Level.FUNCTION) + "}")
        out.append('"')
        return "".join(out)

    def _path(self, expr: Path) -> str:
        return "/." if expr.value == "/" else expr.value

    def _pathinterpolation(self, expr: PathInterpolation) -> str:
        first = expr.parts[0]
        assert type(first) is Str
        out = [first.value]
        previous_text = True
        last = len(expr.parts) - 1
        for index, part in enumerate(expr.parts[1:], 1):
            if (type(part) is Str and not previous_text and _PATH_TEXT.match(part.value)
                    and not (index == last and part.value.endswith("/"))):
                out.append(part.value)
                previous_text = True
            else:
                out.append("${" + self.expr(part, Level.FUNCTION) + "}")
                previous_text = False
        return "".join(out)

    def _searchpath(self, expr: SearchPath) -> str:
        return f"<{expr.name}>"

    def _var(self, expr: Var) -> str:
        return expr.name

    def _curpos(self, expr: CurPos) -> str:
        return "__curPos"

    def _list(self, expr: List) -> str:
        if not expr.items:
            return "[ ]"
        return "[ " + " ".join(self.expr(item, Level.SELECT) for item in expr.items) + " ]"

    # -------------------------------------------------------------------- sets and keys

    def _key(self, key: AttrKey) -> str:
        if type(key) is str:
            return attribute_name(key)
        if type(key) is Interpolation:
            return self._interpolation(key)
        return "${" + self.expr(key, Level.FUNCTION) + "}"  # type: ignore[arg-type]

    def _path_keys(self, path: tuple[AttrKey, ...]) -> str:
        return ".".join(self._key(key) for key in path)

    def _bindings(self, bindings: Bindings) -> str:
        out: list[str] = []
        attrs = bindings.attrs
        index = 0
        while index < len(attrs):
            binding = attrs[index]
            if binding.kind is BindingKind.PLAIN:
                out.append(f"{attribute_name(binding.name)} = "
                           f"{self.expr(binding.value, Level.FUNCTION)};")
            elif binding.kind is BindingKind.INHERIT:
                out.append(f"inherit {attribute_name(binding.name)};")
            else:
                source = _source_index(binding.value)
                names = [attribute_name(binding.name)]
                while (index + 1 < len(attrs) and attrs[index + 1].kind is BindingKind.INHERIT_FROM
                       and _source_index(attrs[index + 1].value) == source):
                    index += 1
                    names.append(attribute_name(attrs[index].name))
                subject = self.expr(bindings.inherit_sources[source], Level.FUNCTION)
                out.append(f"inherit ({subject}) {' '.join(names)};")
            index += 1
        for dynamic in bindings.dynamic:
            out.append(f"{self._key(dynamic.key)} = {self.expr(dynamic.value, Level.FUNCTION)};")
        return " ".join(out)

    def _attrset(self, expr: AttrSet) -> str:
        body = self._bindings(expr.bindings)
        text = "{ " + body + " }" if body else "{ }"
        return "rec " + text if expr.recursive else text

    def _select(self, expr: Select) -> str:
        subject = expr.subject
        if type(subject) in (Var, CurPos, AttrSet, List, Str, Interpolation, SearchPath):
            text = self._bare(subject)
        else:
            text = f"({self._bare(subject)})"
        text += "." + self._path_keys(expr.path)
        if expr.default is not None:
            text += " or " + self.expr(expr.default, Level.SELECT)
        return text

    def _hasattr(self, expr: HasAttr) -> str:
        return f"{self.expr(expr.subject, Level.HAS)} ? {self._path_keys(expr.path)}"

    # ------------------------------------------------------------------------ operators

    def _apply(self, expr: Apply) -> str:
        func = expr.func
        arg = expr.arg
        if type(arg) is Var and arg.name == "or":
            simple = _level(func) == Level.SIMPLE and type(func) not in (
                Int, Float, Path, PathInterpolation)
            return (self._bare(func) if simple else f"({self._bare(func)})") + " or"
        return f"{self.expr(func, Level.APP)} {self.expr(arg, Level.SELECT)}"

    def _binop(self, expr: BinOp) -> str:
        operator = BINARY_OPERATORS[expr.op]
        level, assoc = operator.level, operator.associativity
        left = self.expr(expr.left, level if assoc == "left" else level + 1)
        right = self.expr(expr.right, level if assoc == "right" else level + 1)
        return f"{left} {expr.op.value} {right}"

    def _not(self, expr: Not) -> str:
        return "!" + self.expr(expr.operand, Level.NOT)

    def _negate(self, expr: Negate) -> str:
        operand = self.expr(expr.operand, Level.NEG)
        # `-/a` would read as one relative path
        return ("- " if operand.startswith("/") else "-") + operand

    # ------------------------------------------------------------------------ functions

    def _lambda(self, expr: Lambda) -> str:
        body = self.expr(expr.body, Level.FUNCTION)
        if expr.formals is None:
            return f"{expr.param}: {body}"
        items = [formal.name if formal.default is None else
                 f"{formal.name} ? {self.expr(formal.default, Level.FUNCTION)}"
                 for formal in expr.formals.params]
        if expr.formals.ellipsis:
            items.append("...")
        pattern = "{ " + ", ".join(items) + " }" if items else "{ }"
        if expr.param is not None:
            pattern = f"{expr.param}@{pattern}"
        return f"{pattern}: {body}"

    def _let(self, expr: Let) -> str:
        return f"let {self._bindings(expr.bindings)} in {self.expr(expr.body, Level.FUNCTION)}"

    def _with(self, expr: With) -> str:
        loose = Level.FUNCTION
        return f"with {self.expr(expr.namespace, loose)}; {self.expr(expr.body, loose)}"

    def _assert(self, expr: Assert) -> str:
        loose = Level.FUNCTION
        return f"assert {self.expr(expr.cond, loose)}; {self.expr(expr.body, loose)}"

    def _if(self, expr: If) -> str:
        loose = Level.FUNCTION
        return (f"if {self.expr(expr.cond, loose)} then {self.expr(expr.then, loose)} "
                f"else {self.expr(expr.else_, loose)}")

    def _inheritsource(self, expr: InheritSource) -> str:
        raise ValueError("InheritSource outside an `inherit (…)` binding cannot be printed")


def _source_index(value: Expr) -> int:
    assert type(value) is Select and type(value.subject) is InheritSource
    return value.subject.index
