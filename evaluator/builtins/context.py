"""String-context builtins: `hasContext getContext appendContext
unsafeDiscardStringContext unsafeDiscardOutputDependency`.

A string's context is the set of store paths it refers to (see `values.ContextString`):
a plain path (a source, a `toFile` result), `!out!<drv>` for one output of a derivation,
`=<drv>` for a derivation with all its outputs (what `drvPath` carries). `getContext`
shows it as `{ "<path>" = { path = true; allOutputs = true; outputs = [ … ]; }; }`.
"""

from __future__ import annotations

from typing import Any

from ..coerce import (
    coerce_to_string,
    expect_attrs,
    expect_bool,
    expect_list,
    expect_string,
    expect_string_no_context,
)
from ..context import EvalContext
from ..errors import EvalError
from ..hashes import BASE32_ALPHABET
from ..values import ContextString, make_string
from .registry import builtin

_STORE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789+-._?=")
_HASH_CHARS = frozenset(BASE32_ALPHABET)


def is_store_path(store_dir: str, path: str) -> bool:
    """Whether `path` is a store path itself (`<store>/<32 base-32 chars>-<name>`), not a
    file inside one."""
    prefix = store_dir + "/"
    if not path.startswith(prefix):
        return False
    base = path[len(prefix):]
    if len(base) < 34 or "/" in base or base[32] != "-":
        return False
    name = base[33:]
    return (all(c in _HASH_CHARS for c in base[:32]) and len(name) <= 211
            and all(c in _STORE_NAME_CHARS for c in name))


@builtin("hasContext", 1)
def has_context(s: Any) -> bool:
    """Return whether a string refers to store paths (has a non-empty context)."""
    return type(expect_string(s, "the argument of 'hasContext'")) is ContextString


@builtin("getContext", 1)
def get_context(s: Any) -> dict[str, Any]:
    """Return a string's context as a set from store path to
    `{ path = true; allOutputs = true; outputs = [ "out" … ]; }`."""
    value = expect_string(s, "the argument of 'getContext'")
    if type(value) is not ContextString:
        return {}
    infos: dict[str, dict[str, Any]] = {}
    for element in sorted(value.context):
        if element.startswith("="):
            info = infos.setdefault(element[1:], {})
            info["allOutputs"] = True
        elif element.startswith("!"):
            _, output, drv = element.split("!", 2)
            info = infos.setdefault(drv, {})
            info.setdefault("outputs", []).append(output)
        else:
            infos.setdefault(element, {})["path"] = True
    return infos


@builtin("appendContext", 2, context=True)
def append_context(ctx: EvalContext, s: Any, context: Any) -> Any:
    """Return the string with context added, given in the form `getContext` returns."""
    value: Any = expect_string(s, "the first argument of 'appendContext'")
    text = value if type(value) is str else value.text
    elements = set() if type(value) is str else set(value.context)
    for path, info in expect_attrs(context, "the second argument of "
                                            "'appendContext'").items():
        if not is_store_path(ctx.store_dir, path):
            raise EvalError(f"context key '{path}' is not a store path")
        if ctx.store is not None and not ctx.store.is_valid(path):
            raise EvalError(f"path '{path}' is not valid")
        flags = expect_attrs(info, f"the context of '{path}' passed to 'appendContext'")
        wanted = flags.get("path")
        if wanted is not None and expect_bool(wanted, "the 'path' flag"):
            elements.add(path)
        everything = flags.get("allOutputs")
        if everything is not None and expect_bool(everything, "the 'allOutputs' flag"):
            if not path.endswith(".drv"):
                raise EvalError(f"tried to add all-outputs context of {path}, which is not "
                                "a derivation, to a string")
            elements.add("=" + path)
        outputs = flags.get("outputs")
        if outputs is not None:
            names = expect_list(outputs, "the 'outputs' list")
            if names and not path.endswith(".drv"):
                raise EvalError(f"tried to add derivation output context of {path}, which "
                                "is not a derivation, to a string")
            for name in names:
                output = expect_string_no_context(name, "an output name")
                elements.add(f"!{output}!{path}")
    return make_string(text, frozenset(elements))


@builtin("unsafeDiscardStringContext", 1, context=True)
def unsafe_discard_string_context(ctx: EvalContext, s: Any) -> str:
    """Return the string without its context (it no longer refers to store paths)."""
    value = coerce_to_string(s, ctx, what="the argument of 'unsafeDiscardStringContext'")
    return value if type(value) is str else value.text  # type: ignore[union-attr]


@builtin("unsafeDiscardOutputDependency", 1, context=True)
def unsafe_discard_output_dependency(ctx: EvalContext, s: Any) -> Any:
    """Turn a `drvPath`'s dependency on all outputs of a derivation into a dependency on
    the `.drv` file alone."""
    value: Any = coerce_to_string(s, ctx, what="the argument of "
                                               "'unsafeDiscardOutputDependency'")
    if type(value) is str:
        return value
    elements = frozenset(e.removeprefix("=") for e in value.context)
    return make_string(value.text, elements)
