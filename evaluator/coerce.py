"""Forcing a value to the type a builtin or operator needs, with one error format.

Every type check in the evaluator and the builtins goes through these helpers, so every
type error reads the same:

    expected a set but found a list: [ 1 2 ]

`what` names the value being checked ("the first argument of 'head'"); when given, the
error carries a "while evaluating …" frame saying so. Each `expect_*` forces its argument
(a value or a Thunk) and returns the Python representation (see `values`):

    xs = expect_list(args[0], "the first argument of 'head'")

`coerce_to_string` implements Nix's string coercion (interpolation, `toString`, `+` on
strings): strings keep their context, paths are copied to the store (their store path
becomes context), sets use `__toString` or `outPath`; with `coerce_more` (as `toString`
does) also integers, floats, booleans, null and lists.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .errors import EvalError, EvalTypeError
from .printer import describe_value, format_float
from .values import (
    EMPTY_CONTEXT,
    ContextString,
    Lambda,
    PathValue,
    PrimOp,
    PrimOpApp,
    Thunk,
    join_text,
    make_string,
)

if TYPE_CHECKING:
    from .context import EvalContext


def show_type(value: Any) -> str:
    """The value's type with an article, as used in messages: "a set", "an integer",
    "the built-in function 'head'"."""
    t = type(value)
    if t is Thunk:
        return show_type(value.force())
    if value is None:
        return "null"
    if t is bool:
        return "a Boolean"
    if t is int:
        return "an integer"
    if t is float:
        return "a float"
    if t is str or t is ContextString:
        return "a string"
    if t is PathValue:
        return "a path"
    if t is list:
        return "a list"
    if t is dict:
        return "a set"
    if t is Lambda:
        return "a function"
    if t is PrimOp:
        return f"the built-in function '{value.name}'"
    if t is PrimOpApp:
        return f"the partially applied built-in function '{value.primop.name}'"
    raise AssertionError(f"not an ndx value: {value!r}")


def type_error(expected: str, value: Any, what: str | None = None) -> EvalTypeError:
    """The error for `value` where `expected` ("a set", "an integer") was needed."""
    found = show_type(value)
    shown = describe_value(value)
    message = f"expected {expected} but found {found}"
    if not (type(value) is PrimOp or type(value) is PrimOpApp):
        message += f": {shown}"
    error = EvalTypeError(message)
    if what is not None:
        error.add_frame(f"while evaluating {what}", None)
    return error


def _force(value: Any) -> Any:
    return value.force() if type(value) is Thunk else value


def expect_int(value: Any, what: str | None = None) -> int:
    """Force `value` and return it as an integer."""
    value = _force(value)
    if type(value) is not int:
        raise type_error("an integer", value, what)
    return value


def expect_float(value: Any, what: str | None = None) -> float:
    """Force `value`, which may be a float or an integer, and return it as a float."""
    value = _force(value)
    t = type(value)
    if t is float:
        return value  # type: ignore[no-any-return]
    if t is int:
        return float(value)
    raise type_error("a float", value, what)


def expect_number(value: Any, what: str | None = None) -> int | float:
    """Force `value` and return it as an int or float (whichever it is)."""
    value = _force(value)
    t = type(value)
    if t is int or t is float:
        return value  # type: ignore[no-any-return]
    raise type_error("an integer or a float", value, what)


def expect_bool(value: Any, what: str | None = None) -> bool:
    """Force `value` and return it as a Boolean."""
    value = _force(value)
    if value is True or value is False:
        return value
    raise type_error("a Boolean", value, what)


def expect_string(value: Any, what: str | None = None) -> str | ContextString:
    """Force `value`, which must be a string (not a path), and return the string value
    with its context (`values.string_text` / `string_context` take it apart)."""
    value = _force(value)
    t = type(value)
    if t is str or t is ContextString:
        return value  # type: ignore[no-any-return]
    raise type_error("a string", value, what)


def expect_string_text(value: Any, what: str | None = None) -> str:
    """Force `value`, which must be a string, and return its characters (context dropped)."""
    value = _force(value)
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    if t is ContextString:
        return value.text  # type: ignore[no-any-return]
    raise type_error("a string", value, what)


def expect_string_no_context(value: Any, what: str | None = None) -> str:
    """Force `value`, which must be a string that refers to no store path (Nix's
    `forceStringNoCtx`), and return its characters."""
    value = _force(value)
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    if t is ContextString:
        raise EvalError(f"the string '{value.text}' is not allowed to refer to a store path "
                        f"(such as '{min(value.context).lstrip('=!').split('!')[-1]}')")
    raise type_error("a string", value, what)


def expect_path(value: Any, what: str | None = None) -> PathValue:
    """Force `value`, which must be a path value, and return it."""
    value = _force(value)
    if type(value) is not PathValue:
        raise type_error("a path", value, what)
    return value


def expect_list(value: Any, what: str | None = None) -> list[Any]:
    """Force `value` and return it as a list (of values or Thunks; do not mutate it)."""
    value = _force(value)
    if type(value) is not list:
        raise type_error("a list", value, what)
    return value


def expect_attrs(value: Any, what: str | None = None) -> dict[str, Any]:
    """Force `value` and return it as a set (a dict of values or Thunks; do not mutate)."""
    value = _force(value)
    if type(value) is not dict:
        raise type_error("a set", value, what)
    return value


def is_function(value: Any) -> bool:
    """Whether a forced value can be called: a function, a builtin, or a set with
    `__functor`."""
    t = type(value)
    return t is Lambda or t is PrimOp or t is PrimOpApp or (t is dict and "__functor" in value)


def expect_function(value: Any, what: str | None = None) -> Any:
    """Force `value`, which must be callable (see `is_function`), and return it."""
    value = _force(value)
    if not is_function(value):
        raise type_error("a function", value, what)
    return value


# ------------------------------------------------------------------------ coercion


def coerce_to_string(value: Any, ctx: EvalContext | None, *, what: str | None = None,
                     coerce_more: bool = False, copy_to_store: bool = True,
                     canonicalize_path: bool = True) -> str | ContextString:
    """Nix's `coerceToString`: the string a value stands for, with context.

    * strings are returned as they are;
    * paths are copied to the store (their store path is the result, and its context)
      unless `copy_to_store` is False, which gives the path's text;
    * sets use `__toString` (called with the set) or their `outPath`;
    * with `coerce_more` (`toString`): integers, floats (`1.500000`), `true` → "1",
      `false` and `null` → "", and lists (elements joined by spaces).
    """
    value = _force(value)
    t = type(value)
    if isinstance(value, (str, ContextString)):
        return value
    if t is PathValue:
        path = value.path
        if canonicalize_path:
            from .paths import canonical_path

            path = canonical_path(path)
        if not copy_to_store:
            return str(path)
        if ctx is None:
            from .errors import NotAvailableError

            raise NotAvailableError(f"cannot copy '{path}' to the store: no store is "
                                    "available in this evaluation")
        store_path = ctx.copy_path_to_store(path)
        return ContextString(store_path, frozenset((store_path,)))
    if t is dict:
        to_string = value.get("__toString")
        if to_string is not None:
            from .runtime import apply

            result = apply(to_string, value)
            return coerce_to_string(result, ctx, what=what, coerce_more=coerce_more,
                                    copy_to_store=copy_to_store)
        out_path = value.get("outPath")
        if out_path is not None:
            return coerce_to_string(out_path, ctx, what=what, coerce_more=coerce_more,
                                    copy_to_store=copy_to_store,
                                    canonicalize_path=canonicalize_path)
        raise _cannot_coerce(value, what)
    if coerce_more:
        if value is True:
            return "1"
        if value is False or value is None:
            return ""
        if t is int:
            return str(value)
        if t is float:
            # C's "%f" (std::to_string), which Nix uses; NaN prints as Nix prints it.
            return f"{value:f}" if not math.isnan(value) else format_float(value)
        if t is list:
            return _coerce_list(value, ctx, what, copy_to_store, canonicalize_path)
    raise _cannot_coerce(value, what)


def _coerce_list(items: list[Any], ctx: EvalContext | None, what: str | None,
                 copy_to_store: bool, canonicalize_path: bool) -> str | ContextString:
    """`toString [ … ]`: elements separated by a space, except after an empty list."""
    parts: list[str] = []
    context: set[str] = set()
    last = len(items) - 1
    for n, item in enumerate(items):
        item = _force(item)
        piece = coerce_to_string(item, ctx, what=what, coerce_more=True,
                                 copy_to_store=copy_to_store,
                                 canonicalize_path=canonicalize_path)
        if type(piece) is ContextString:
            parts.append(piece.text)
            context |= piece.context
        else:
            parts.append(piece)  # type: ignore[arg-type]
        if n < last and not (type(item) is list and not item):
            parts.append(" ")
    return make_string(join_text(parts), frozenset(context) if context else EMPTY_CONTEXT)


def _cannot_coerce(value: Any, what: str | None) -> EvalTypeError:
    error = EvalTypeError(f"cannot coerce {show_type(value)} to a string: "
                          f"{describe_value(value)}")
    if what is not None:
        error.add_frame(f"while evaluating {what}", None)
    return error


def coerce_to_path(value: Any, ctx: EvalContext | None,
                   what: str | None = None) -> str | ContextString:
    """Nix's `coerceToPath`: an absolute path from a path, or a string / set that coerces
    to one (without copying anything to the store). The result keeps the string's
    context, so a builtin can realise the store paths it refers to before reading."""
    result = coerce_to_string(value, ctx, what=what, copy_to_store=False)
    text = result if type(result) is str else result.text  # type: ignore[union-attr]
    if not text.startswith("/"):
        error = EvalError(f"string '{text}' doesn't represent an absolute path")
        if what is not None:
            error.add_frame(f"while evaluating {what}", None)
        raise error
    return result
