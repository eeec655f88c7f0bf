"""How the REPL prints a value: one level deep, forcing only what it prints.

    { a = 2; b = { ... }; c = [ ... ]; d = «error: boom»; }
    «derivation /ndx/store/…-redis-7.0.15.drv»

Like `nix repl`: the value and each attribute or element at the top are forced (to know
what to print), nested sets and lists are abbreviated as `{ ... }` and `[ ... ]` without
being looked into, a derivation prints as its `.drv` path, and an error inside the value
is printed in its place instead of hiding the rest. Scalars, names and strings are
written exactly as `ndx eval` writes them (`ndx.evaluator.printer`). `:p` prints the
whole value deeply instead, as `ndx eval --strict` does (`show_deep`).

Call these on the evaluation thread (`run_deep`): they force thunks.
"""

from __future__ import annotations

from typing import Any

from ndx.cli.build import is_derivation
from ndx.evaluator.printer import format_attr_name, format_scalar, print_value
from ndx.evaluator.runtime import force_deep
from ndx.evaluator.values import force, string_text
from ndx.lang.errors import NdxError


def show(value: Any) -> str:
    """`value` printed one level deep (see the module docstring)."""
    value = force(value)
    if type(value) is dict and not is_derivation(value):
        if not value:
            return "{ }"
        parts = [f"{format_attr_name(name)} = {_show_nested(value[name])}; "
                 for name in sorted(value)]
        return "{ " + "".join(parts) + "}"
    if type(value) is list:
        if not value:
            return "[ ]"
        return "[ " + "".join(_show_nested(item) + " " for item in value) + "]"
    return _show_leaf(value)


def show_deep(value: Any) -> str:
    """`value` forced completely and printed as `ndx eval --strict` prints it (errors
    propagate)."""
    return print_value(force_deep(value))


def _show_nested(item: Any) -> str:
    try:
        item = force(item)
        if type(item) is dict and not is_derivation(item):
            return "{ ... }" if item else "{ }"
        if type(item) is list:
            return "[ ... ]" if item else "[ ]"
        return _show_leaf(item)
    except NdxError as error:
        return f"«error: {error_message(error)}»"


def _show_leaf(value: Any) -> str:
    if type(value) is dict:  # a derivation
        return f"«derivation {string_text(force(value['drvPath']))}»"
    text = format_scalar(value)
    if text is None:
        raise AssertionError(f"not an ndx value: {value!r}")
    return text


def error_message(error: NdxError) -> str:
    """An error's message alone, without location (for `«error: …»`)."""
    message = getattr(error, "message", None)
    return message if isinstance(message, str) else str(error)
