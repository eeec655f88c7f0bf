"""`:doc`: the documentation of a builtin, or where a function written in ndx is defined.

Builtins are documented by their docstrings in the registry
(`ndx.evaluator.builtins.registry`): `:doc head` or `:doc builtins.head` prints

    Synopsis: builtins.head xs

        Return the first element of a list.

A function written in ndx has no docstring; `:doc` shows its arguments, the comment
just above its definition (if any) and the definition itself, located like an error.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from typing import Any

from ndx.evaluator.builtins.registry import REGISTRY, BuiltinSpec
from ndx.evaluator.values import Lambda, PrimOp, PrimOpApp
from ndx.lang.diagnostics import Diagnostic, render

BUILTIN_NAME = re.compile(r"(?:builtins\.)?([A-Za-z_][A-Za-z0-9_'-]*)\Z")


def builtin_named(text: str, in_scope: set[str]) -> BuiltinSpec | None:
    """The builtin `text` names (`head`, `builtins.head`, `buildImage`) unless a session
    binding of that name hides it."""
    match = BUILTIN_NAME.match(text.strip())
    if match is None:
        return None
    name = match.group(1)
    if not text.strip().startswith("builtins.") and name in in_scope:
        return None
    return REGISTRY.get(name)


def describe_builtin(spec: BuiltinSpec) -> str:
    """A builtin's synopsis and whole docstring."""
    qualified = spec.name if spec.global_ and (spec.extension or spec.arity == 0) else \
        f"builtins.{spec.name}"
    synopsis = " ".join([qualified, *_parameter_names(spec)])
    body = inspect.cleandoc(spec.fn.__doc__ or spec.doc or "(undocumented)")
    lines = [f"Synopsis: {synopsis}", ""]
    lines += [textwrap.indent(paragraph, "    ") for paragraph in body.splitlines()]
    if spec.global_ and not spec.extension and spec.arity:
        lines += ["", f"    Also available as '{spec.name}' without 'builtins.'."]
    return "\n".join(line.rstrip() for line in lines)


def describe_value(value: Any, text: str) -> str:
    """The documentation of the function `value` (the result of evaluating `text`)."""
    if type(value) is PrimOp:
        return _primop(value.name, text)
    if type(value) is PrimOpApp:
        given = len(value.args)
        return (f"'{text}' is the builtin '{value.primop.name}' applied to {given} of its "
                f"{value.primop.arity} arguments.\n\n" + _primop(value.primop.name, text))
    if type(value) is Lambda:
        return _lambda(value, text)
    if type(value) is dict and "__functor" in value:
        return (f"'{text}' is a set with '__functor': calling it calls its '__functor' "
                "attribute with the set itself first (try ':doc' on that attribute).")
    from ndx.evaluator.coerce import show_type

    return f"'{text}' is {show_type(value)}, not a function: it has no documentation."


def _primop(name: str, text: str) -> str:
    spec = REGISTRY.get(name)
    if spec is None:
        return f"'{text}' is the builtin '{name}', which has no documentation."
    return describe_builtin(spec)


def _parameter_names(spec: BuiltinSpec) -> list[str]:
    if spec.arity == 0:
        return []
    names = list(inspect.signature(spec.fn).parameters)
    if spec.context:
        names = names[1:]
    cleaned = [name.removesuffix("_value").rstrip("_") for name in names]
    return cleaned[:spec.arity]


def _lambda(function: Lambda, text: str) -> str:
    if function.formals is None:
        pattern = "one argument"
    else:
        names = [name + (" ? …" if has_default else "") for name, has_default in
                 function.formals]
        if function.ellipsis:
            names.append("...")
        pattern = "{ " + ", ".join(names) + " }" if names else "{ }"
    lines = [f"'{text}' is a function written in ndx, taking {pattern}."]
    span = function.span
    if span is None:
        return lines[0]
    comment = _comment_above(span.source.text, span.start)
    if comment:
        lines += ["", textwrap.indent(comment, "    ")]
    lines += ["", render(Diagnostic("note", "defined here", span))]
    return "\n".join(lines)


def _comment_above(text: str, offset: int) -> str:
    """The comment on the lines just above the definition's line: `#` lines or one
    `/* … */` block, without the markers."""
    line_start = text.rfind("\n", 0, offset) + 1
    lines = text[:line_start].splitlines()
    if lines and lines[-1].strip().endswith("*/"):
        block = text[:line_start].rstrip()
        start = block.rfind("/*")
        if start != -1:
            inner = block[start + 2:-2].strip("*\n ")
            return inspect.cleandoc(inner)
        return ""
    comment: list[str] = []
    while lines and lines[-1].strip().startswith("#"):
        comment.append(lines.pop().strip().lstrip("#").strip())
    return "\n".join(reversed(comment))
