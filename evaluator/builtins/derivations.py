"""`derivationStrict` — the one strict primitive that turns attributes into a store
derivation — and `derivation`, the lazy wrapper written in ndx (`derivation.ndx`).

`derivationStrict attrs` coerces every attribute to a string the way Nix does (`toString`
rules; paths are copied to the store), collects the string contexts into the inputs,
and asks the store (`StoreIO.instantiate`) for the `.drv` path and output paths. Its
result is `{ drvPath = …; <output> = …; }`, strings whose context points at the
derivation, so whoever uses them depends on it.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from ..coerce import (
    coerce_to_string,
    expect_attrs,
    expect_bool,
    expect_list,
    expect_string_no_context,
)
from ..context import EvalContext
from ..errors import EvalError
from ..hashes import HashError, parse_hash
from ..io import Derivation, FixedOutput
from ..runtime import apply
from ..values import ContextString, Thunk, force, string_context, string_text
from .registry import builtin

_VALID_NAME = re.compile(r"[a-zA-Z0-9+\-._?=]+")
"""Characters Nix allows in a store path name."""


def check_store_name(name: str) -> None:
    """Reject names a store path cannot carry (Nix's rules)."""
    if not name:
        raise EvalError("derivation name is empty")
    if len(name) > 211:
        raise EvalError(f"derivation name '{name}' is longer than 211 characters")
    if name.startswith("."):
        raise EvalError(f"derivation name '{name}' may not start with a period")
    if not _VALID_NAME.fullmatch(name):
        bad = next(c for c in name if not _VALID_NAME.fullmatch(c))
        raise EvalError(f"derivation name '{name}' contains illegal character '{bad}'")


class _Collector:
    """Accumulates the contexts of every coerced attribute."""

    def __init__(self) -> None:
        self.context: set[str] = set()

    def text(self, value: Any) -> str:
        self.context |= string_context(value)
        return string_text(value)


def _outputs(names: list[str]) -> tuple[str, ...]:
    seen: list[str] = []
    for name in names:
        if name in seen:
            raise EvalError(f"duplicate derivation output '{name}'")
        if name == "drv":
            raise EvalError("invalid derivation output name 'drv'")
        seen.append(name)
    if not seen:
        raise EvalError("derivation cannot have an empty set of outputs")
    return tuple(seen)


@builtin("derivationStrict", 1, global_=True, context=True)
def derivation_strict(ctx: EvalContext, attrs_value: Any) -> Any:
    """Instantiate a derivation from its attributes (strictly); returns its `drvPath` and
    output paths. Use `derivation`, which wraps this lazily."""
    attrs = expect_attrs(attrs_value, "the argument of 'derivationStrict'")
    if "name" not in attrs:
        raise EvalError("attribute 'name' missing for call to 'derivationStrict'")
    name = expect_string_no_context(attrs["name"], "the derivation name")
    try:
        if name.endswith(".drv"):
            raise EvalError("derivation names are not allowed to end in '.drv'")
        check_store_name(name)
        store = ctx.require_store("derivation")
        structured = "__structuredAttrs" in attrs and expect_bool(
            attrs["__structuredAttrs"], "the '__structuredAttrs' attribute")
        ignore_nulls = "__ignoreNulls" in attrs and expect_bool(
            attrs["__ignoreNulls"], "the '__ignoreNulls' attribute")
        collect = _Collector()
        env: dict[str, str] = {}
        json_attrs: dict[str, Any] = {}
        args: list[str] = []
        fields: dict[str, Any] = {}
        for key in sorted(attrs):
            if key == "__ignoreNulls":
                continue
            raw = attrs[key]
            try:
                if ignore_nulls and force(raw) is None:
                    continue
                if key == "args":
                    for item in expect_list(raw, "the 'args' attribute"):
                        args.append(collect.text(coerce_to_string(item, ctx,
                                                                  coerce_more=True)))
                elif structured:
                    if key == "__structuredAttrs":
                        continue
                    json_attrs[key] = raw
                    fields[key] = _structured_field(key, raw, collect)
                else:
                    text = collect.text(coerce_to_string(raw, ctx, coerce_more=True))
                    env[key] = text
                    if key == "outputs":
                        fields[key] = _outputs(text.split())
                    elif key in ("builder", "system", "outputHash", "outputHashAlgo",
                                 "outputHashMode"):
                        fields[key] = text
            except EvalError as error:
                span = raw.span if type(raw) is Thunk else None
                error.add_frame(f"while evaluating the attribute '{key}' of the derivation "
                                f"'{name}'", span)
                raise
        if structured:
            to_json = ctx.builtins["toJSON"]
            env["__json"] = collect.text(force(apply(to_json, json_attrs)))
        if "builder" not in fields:
            raise EvalError("required attribute 'builder' missing")
        if "system" not in fields:
            raise EvalError("required attribute 'system' missing")
        outputs = fields.get("outputs", ("out",))
        fixed = _fixed_output(fields, outputs)
        input_drvs: dict[str, set[str]] = {}
        input_srcs: set[str] = set()
        for element in collect.context:
            if element.startswith("!"):
                _, output, drv = element.split("!", 2)
                input_drvs.setdefault(drv, set()).add(output)
            elif element.startswith("="):
                drv = element[1:]
                known = ctx.derivation_outputs.get(drv)
                input_srcs.add(drv)
                if known:
                    input_drvs.setdefault(drv, set()).update(known)
            else:
                input_srcs.add(element)
        derivation = Derivation(
            name=name, system=fields["system"], builder=fields["builder"], args=tuple(args),
            env=env, outputs=outputs,
            input_drvs={drv: frozenset(outs) for drv, outs in input_drvs.items()},
            input_srcs=frozenset(input_srcs), fixed=fixed)
        result = store.instantiate(derivation)
    except EvalError as error:
        # Like Nix, place errors about the derivation as a whole at its `name`
        # attribute, in the user's code (not inside the `derivation` wrapper).
        raw_name = attrs["name"]
        error.at(raw_name.span if type(raw_name) is Thunk else None)
        error.add_frame(f"while evaluating the derivation '{name}'", None)
        raise
    ctx.derivation_outputs[result.drv_path] = dict(result.outputs)
    value: dict[str, Any] = {
        "drvPath": ContextString(result.drv_path, frozenset({"=" + result.drv_path}))}
    for output, path in result.outputs.items():
        value[output] = ContextString(path, frozenset({f"!{output}!{result.drv_path}"}))
    return value


def _structured_field(key: str, raw: Any, collect: _Collector) -> Any:
    """Read a field the derivation itself needs from a structured-attrs attribute."""
    if key == "builder":
        value = force(raw)
        if type(value) is not str and type(value) is not ContextString:
            return expect_string_no_context(value, "the 'builder' attribute")
        return collect.text(value)
    if key in ("system", "outputHash", "outputHashAlgo", "outputHashMode"):
        return expect_string_no_context(raw, f"the '{key}' attribute")
    if key == "outputs":
        return _outputs([expect_string_no_context(x, "an output name")
                         for x in expect_list(raw, "the 'outputs' attribute")])
    return None


def _fixed_output(fields: dict[str, Any], outputs: tuple[str, ...]) -> FixedOutput | None:
    text = fields.get("outputHash")
    if text is None:
        return None
    if outputs != ("out",):
        raise EvalError("multiple outputs are not supported in fixed-output derivations")
    mode = fields.get("outputHashMode", "flat")
    if mode not in ("flat", "recursive"):
        raise EvalError(f"invalid value '{mode}' for 'outputHashMode' attribute")
    try:
        algo, digest = parse_hash(text, fields.get("outputHashAlgo") or None)
    except HashError as exc:
        raise EvalError(str(exc)) from None
    return FixedOutput(algo, digest, mode == "recursive")


@builtin("derivation", 0, global_=True, context=True)
def derivation(ctx: EvalContext) -> Any:
    """Describe a build: `derivation { name; system; builder; args ? []; … }` evaluates
    to a set whose `outPath` is where the build's output will be, with `drvPath`,
    `outputName`, one attribute per output, and the original attributes."""
    return Thunk(_load_derivation, ctx)


def _load_derivation(ctx: EvalContext) -> Any:
    text = resources.files("ndx.evaluator.builtins").joinpath("derivation.ndx").read_text(
        encoding="utf-8")
    return ctx.program.evaluate_text(text, "«derivation»", "/")
