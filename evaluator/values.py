"""The runtime representation of ndx values, and thunks.

Values are plain Python objects wherever possible, because the evaluator's speed depends
on cheap type tests (`type(v) is int`) and no wrapping:

    ndx type     Python representation
    --------     ---------------------------------------------------------------
    null         None
    bool         True / False            (test with `v is True`, never `== 1`)
    int          int                     (64-bit range enforced by arithmetic)
    float        float
    string       str                     when it has no context
                 ContextString           when it refers to store paths
    path         PathValue
    list         list                    never mutated after construction
    set          dict                    name -> value or Thunk; never mutated after
                                         construction; iterate with `sorted()` where
                                         Nix's order (by name) is observable
    lambda       Lambda / PrimOp / PrimOpApp

Any element of a list, any attribute value, and any function argument may be a `Thunk`;
`force` turns it into one of the values above. A `Thunk` is never stored inside another
thunk's result: forcing always yields a value in weak head normal form.

Note that `bool` is a subclass of `int` in Python: always test `type(v) is int`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from ndx.lang.source import Span


class PathValue:
    """A path value: an absolute, canonical file-system path (not yet in the store)."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __eq__(self, other: object) -> bool:
        return type(other) is PathValue and other.path == self.path

    def __hash__(self) -> int:
        return hash(("path", self.path))

    def __repr__(self) -> str:
        return f"PathValue({self.path!r})"


class ContextString:
    """A string together with its context: the store paths it refers to.

    `context` is a frozenset of Nix-style context elements:
      "/ndx/store/…-src"            a plain store path (a source, a `toFile` result)
      "!out!/ndx/store/…-x.drv"     output `out` of a derivation
      "=/ndx/store/…-x.drv"         a derivation and all its outputs (from `drvPath`)
    A string with an empty context is always a plain `str`; use `make_string`.
    """

    __slots__ = ("text", "context")

    def __init__(self, text: str, context: frozenset[str]) -> None:
        self.text = text
        self.context = context

    def __repr__(self) -> str:
        return f"ContextString({self.text!r}, {sorted(self.context)!r})"


EMPTY_CONTEXT: frozenset[str] = frozenset()


def make_string(text: str, context: frozenset[str] = EMPTY_CONTEXT) -> str | ContextString:
    """The string value for `text` with `context` (a plain `str` when the context is empty)."""
    return ContextString(text, context) if context else text


def string_text(value: str | ContextString) -> str:
    """The characters of a string value, ignoring its context."""
    return value if type(value) is str else value.text  # type: ignore[union-attr]


def string_context(value: str | ContextString) -> frozenset[str]:
    """The context of a string value (empty for a plain `str`)."""
    return EMPTY_CONTEXT if type(value) is str else value.context  # type: ignore[union-attr]


def mend_text(text: str) -> str:
    """`text` in its one canonical form. Strings are byte strings: bytes that are not
    UTF-8 are kept as surrogate escapes (U+DC80–U+DCFF), so two halves of a character
    cut by `substring` must become the character again once they are joined, or equal
    byte strings would differ."""
    if text.isascii() or not _ESCAPE.search(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")


def has_escape(text: str) -> bool:
    """Whether `text` holds a byte that is not UTF-8 (as a surrogate escape)."""
    return not text.isascii() and _ESCAPE.search(text) is not None


def sorted_names(names: Iterable[str], reverse: bool = False) -> list[str]:
    """Attribute names (or any strings) in Nix's order, the order of their bytes."""
    ordered = sorted(names, reverse=reverse)
    if not "".join(ordered).isascii() and any(has_escape(name) for name in ordered):
        ordered.sort(key=text_bytes, reverse=reverse)
    return ordered


def join_text(parts: list[str], separator: str = "") -> str:
    """The parts joined (with `separator`) into a canonical string (see `mend_text`)."""
    return mend_text(separator.join(parts))


def concat_text(left: str, right: str) -> str:
    """`left + right` as a canonical string: only a surrogate escape on each side of the
    seam can form a character."""
    if (left and right and "\udc80" <= left[-1] <= "\udcff"
            and "\udc80" <= right[0] <= "\udcff"):
        return mend_text(left + right)
    return left + right


def text_bytes(text: str) -> bytes:
    """The bytes a string stands for (surrogate escapes are the bytes that are not
    UTF-8): what is written to a file or the store, hashed, or compared."""
    return text.encode("utf-8", "surrogateescape")


_ESCAPE = re.compile("[\udc80-\udcff]")


class Thunk:
    """A suspended computation, forced at most once.

    States, encoded in `code` to keep the object small:
      suspended   `code` is a callable `code(env) -> value`, `env` its environment
      forcing     `code` is `BLACKHOLE`: forcing again is infinite recursion
      evaluated   `code` is None and `value` holds the result (env is dropped)

    `span` is where the suspended expression is, for "infinite recursion encountered",
    for trace frames, and as the location of an error raised without one. If forcing
    raises, the thunk returns to `suspended`, so an error (for instance one caught by
    `tryEval`) never leaves a blackhole behind.
    """

    __slots__ = ("code", "env", "value", "span")

    def __init__(self, code: Callable[[Any], Any], env: Any, span: Span | None = None) -> None:
        self.code: Callable[[Any], Any] | None = code
        self.env = env
        self.value: Any = None
        self.span = span

    @classmethod
    def ready(cls, value: Any) -> Thunk:
        """An already-evaluated thunk (for places that need a Thunk object)."""
        thunk = cls.__new__(cls)
        thunk.code = None
        thunk.env = None
        thunk.value = value
        thunk.span = None
        return thunk

    def force(self) -> Any:
        """Evaluate (once) and return the value in weak head normal form."""
        code = self.code
        if code is None:
            return self.value
        if code is BLACKHOLE:
            from .errors import InfiniteRecursionError

            raise InfiniteRecursionError(self.span)
        env = self.env
        self.code = BLACKHOLE
        try:
            value = code(env)
            if type(value) is Thunk:
                value = value.force()
            elif type(value) is list and 0 < len(value) <= 2:
                # Nix stores a list of one or two elements inside the value itself, so
                # a thunk evaluating to an existing short list holds a copy of it; this
                # shows only in which lists print as `«repeated»`, and we match it.
                value = value.copy()
        except BaseException as exc:
            self.code = code
            if getattr(exc, "span", 0) is None and self.span is not None:
                exc.span = self.span  # type: ignore[attr-defined]  # locate EvalErrors
            raise
        self.value = value
        self.code = None
        self.env = None
        return value

    def __repr__(self) -> str:
        if self.code is None:
            return f"Thunk(={self.value!r})"
        return "Thunk(<forcing>)" if self.code is BLACKHOLE else "Thunk(<suspended>)"


def BLACKHOLE(env: Any) -> Any:  # noqa: N802 - a sentinel, named like a constant
    """Marker stored in `Thunk.code` while the thunk is being forced (never called)."""
    raise AssertionError("BLACKHOLE is a marker and is never called")


def force(value: Any) -> Any:
    """The value in weak head normal form (forcing it if it is a thunk)."""
    return value.force() if type(value) is Thunk else value


class Lambda:
    """A function written in ndx.

    `call(arg)` applies it to one argument (a value or a Thunk) and returns a value in
    weak head normal form (callers should still accept a Thunk, as `runtime.apply`
    does). `formals` is None for `x: …` functions, else a tuple of (name, has_default)
    pairs and `ellipsis`, which `builtins.functionArgs` and argument checking use.

    A plain-parameter function compiled by the evaluator carries `body` and `env`
    instead of a `call` closure: applying it is `body([env, arg])`, which hot call
    sites do inline (one Python call fewer per application).
    """

    __slots__ = ("_call", "name", "span", "formals", "ellipsis", "body", "env")

    def __init__(self, call: Callable[[Any], Any] | None, span: Span | None,
                 name: str | None = None,
                 formals: tuple[tuple[str, bool], ...] | None = None,
                 ellipsis: bool = False, body: Callable[[Any], Any] | None = None,
                 env: Any = None) -> None:
        self._call = call
        self.span = span
        self.name = name
        self.formals = formals
        self.ellipsis = ellipsis
        self.body = body
        self.env = env

    def call(self, arg: Any) -> Any:
        """Apply the function to one argument."""
        body = self.body
        if body is not None:
            return body([self.env, arg])
        return self._call(arg)  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"Lambda({self.name or '<anonymous>'})"


class PrimOp:
    """A builtin function of `arity` arguments, implemented in Python.

    `fn(*args)` receives the arguments unforced (values or Thunks) in order: a builtin
    forces exactly what Nix forces, which is how laziness corners come out right.
    `doc` is the one-line description `:doc` shows.
    """

    __slots__ = ("name", "arity", "fn", "doc")

    def __init__(self, name: str, arity: int, fn: Callable[..., Any], doc: str = "") -> None:
        self.name = name
        self.arity = arity
        self.fn = fn
        self.doc = doc

    def __repr__(self) -> str:
        return f"PrimOp({self.name}/{self.arity})"


class PrimOpApp:
    """A builtin applied to fewer arguments than its arity."""

    __slots__ = ("primop", "args")

    def __init__(self, primop: PrimOp, args: tuple[Any, ...]) -> None:
        self.primop = primop
        self.args = args

    def __repr__(self) -> str:
        return f"PrimOpApp({self.primop.name}, {len(self.args)} args)"


Value: TypeAlias = Any
"""Any ndx value in weak head normal form (see the table in the module docstring)."""


def type_name(value: Value) -> str:
    """The value's type as `builtins.typeOf` spells it ("int", "set", "lambda", …)."""
    t = type(value)
    if value is None:
        return "null"
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "float"
    if t is str or t is ContextString:
        return "string"
    if t is PathValue:
        return "path"
    if t is list:
        return "list"
    if t is dict:
        return "set"
    if t is Lambda or t is PrimOp or t is PrimOpApp:
        return "lambda"
    if t is Thunk:
        return type_name(value.force())
    raise AssertionError(f"not an ndx value: {value!r}")
