"""The builtins that belong to the language itself: control (`throw`, `seq`, `tryEval`,
…), type predicates, `import`, the search path, and the constants describing this
evaluator. `derivation` and `derivationStrict` are in `derivations.py`.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from ..coerce import (
    coerce_to_path,
    coerce_to_string,
    expect_attrs,
    expect_list,
    expect_string_no_context,
    expect_string_text,
)
from ..context import EvalContext
from ..errors import AbortError, AssertionFailedError, EvalError, ThrownError
from ..hashes import encode_base32
from ..imports import find_file
from ..printer import print_value
from ..runtime import force_deep
from ..values import (
    ContextString,
    Lambda,
    PathValue,
    PrimOp,
    PrimOpApp,
    Thunk,
    force,
    string_context,
    string_text,
    type_name,
)
from .registry import builtin

NIX_VERSION = "2.8.0"
"""The Nix release whose language ndx implements (what `builtins.nixVersion` says)."""

LANG_VERSION = 6
"""Nix 2.8's language version (`builtins.langVersion`)."""


# ------------------------------------------------------------------ constants


@builtin("true", 0, global_=True)
def true_() -> bool:
    """The Boolean true."""
    return True


@builtin("false", 0, global_=True)
def false_() -> bool:
    """The Boolean false."""
    return False


@builtin("null", 0, global_=True)
def null_() -> None:
    """The null value."""
    return


@builtin("currentSystem", 0, context=True)
def current_system(ctx: EvalContext) -> str:
    """The platform this evaluation builds for, such as "x86_64-linux"."""
    return ctx.system


@builtin("currentTime", 0)
def current_time() -> int:
    """Seconds since the epoch when evaluation started."""
    return int(time.time())


@builtin("nixVersion", 0)
def nix_version() -> str:
    """The Nix version whose language ndx implements ("2.8.0")."""
    return NIX_VERSION


@builtin("langVersion", 0)
def lang_version() -> int:
    """The Nix language version ndx implements (6, as Nix 2.8)."""
    return LANG_VERSION


@builtin("storeDir", 0, context=True)
def store_dir(ctx: EvalContext) -> str:
    """The logical store directory, "/ndx/store"."""
    return ctx.store_dir


@builtin("nixPath", 0, context=True)
def nix_path(ctx: EvalContext) -> list[Any]:
    """The search path as a list of `{ prefix; path; }` (from -I and NDX_PATH)."""
    return [{"path": path, "prefix": prefix} for prefix, path in ctx.search_path]


# ------------------------------------------------------------------ control


@builtin("throw", 1, global_=True, context=True)
def throw(ctx: EvalContext, message: Any) -> Any:
    """Fail with `message`; `tryEval` can catch it."""
    raise ThrownError(string_text(coerce_to_string(message, ctx, what="the message of throw")))


@builtin("abort", 1, global_=True, context=True)
def abort(ctx: EvalContext, message: Any) -> Any:
    """Stop evaluation with `message`; nothing can catch it."""
    text = string_text(coerce_to_string(message, ctx, what="the message of abort"))
    raise AbortError(f"evaluation aborted with the following error message: '{text}'")


@builtin("seq", 2)
def seq(a: Any, b: Any) -> Any:
    """Force `a` (to weak head normal form), then return `b`."""
    force(a)
    return force(b)


@builtin("deepSeq", 2)
def deep_seq(a: Any, b: Any) -> Any:
    """Force `a` completely (every list element and attribute), then return `b`."""
    force_deep(a)
    return force(b)


@builtin("tryEval", 1)
def try_eval(e: Any) -> Any:
    """`{ success = true; value = e; }`, or `{ success = false; value = false; }` when
    evaluating `e` throws or fails an assertion (other errors are not caught)."""
    try:
        force(e)
    except (ThrownError, AssertionFailedError):
        return {"success": False, "value": False}
    return {"success": True, "value": e}


@builtin("trace", 2, context=True)
def trace(ctx: EvalContext, message: Any, value: Any) -> Any:
    """Print `message` (a string as is, anything else as `nix-instantiate` would) to
    stderr, then return `value`."""
    shown = force(message)
    if type(shown) is str or type(shown) is ContextString:
        ctx.trace(string_text(shown))
    else:
        ctx.trace(print_value(shown))
    return force(value)


@builtin("addErrorContext", 2, context=True)
def add_error_context(ctx: EvalContext, message: Any, value: Any) -> Any:
    """Return `value`; if evaluating it fails, the error's trace gains `message`."""
    try:
        return force(value)
    except EvalError as error:
        text = string_text(coerce_to_string(message, ctx))
        error.add_frame(text, None)
        raise


# ------------------------------------------------------------------ types


@builtin("typeOf", 1)
def type_of(value: Any) -> str:
    """The type name: "int", "bool", "string", "path", "null", "set", "list", "lambda"
    or "float"."""
    return type_name(force(value))


def _is(kinds: tuple[type, ...]) -> Any:
    def check(value: Any) -> bool:
        return type(force(value)) in kinds
    return check


builtin("isInt", 1)(_is((int,)))
builtin("isFloat", 1)(_is((float,)))
builtin("isBool", 1)(_is((bool,)))
builtin("isString", 1)(_is((str, ContextString)))
builtin("isPath", 1)(_is((PathValue,)))
builtin("isList", 1)(_is((list,)))
builtin("isAttrs", 1)(_is((dict,)))
builtin("isFunction", 1)(_is((Lambda, PrimOp, PrimOpApp)))


@builtin("isNull", 1, global_=True)
def is_null(value: Any) -> bool:
    """Whether the value is null (deprecated in Nix: prefer `x == null`)."""
    return force(value) is None


@builtin("functionArgs", 1)
def function_args(f: Any) -> Any:
    """The formal parameters of a `{ a, b ? 1 }:` function as `{ a = false; b = true; }`
    (true: has a default); `{ }` for other functions."""
    f = force(f)
    if type(f) is Lambda:
        return {name: has_default for name, has_default in (f.formals or ())}
    if type(f) is PrimOp or type(f) is PrimOpApp:
        return {}
    raise EvalError("'functionArgs' requires a function")


@builtin("unsafeGetAttrPos", 2, context=True)
def unsafe_get_attr_pos(ctx: EvalContext, name: Any, attrs: Any) -> Any:
    """`{ file; line; column; }` of where attribute `name` of `attrs` is defined, or
    null when unknown."""
    key = expect_string_text(name, "the first argument of 'unsafeGetAttrPos'")
    values = expect_attrs(attrs, "the second argument of 'unsafeGetAttrPos'")
    value = values.get(key)
    if type(value) is not Thunk or value.span is None:
        return None
    span = value.span
    return {"file": ctx.program.compiler.file_name(span), "line": span.line,
            "column": span.column}


# ------------------------------------------------------------------ strings


@builtin("toString", 1, global_=True, context=True)
def to_string(ctx: EvalContext, value: Any) -> Any:
    """Convert to a string: numbers, Booleans ("1"/""), null (""), paths (not copied),
    lists (joined by spaces) and sets with `__toString` or `outPath`."""
    return coerce_to_string(value, ctx, coerce_more=True, copy_to_store=False,
                            what="the argument of 'toString'")


@builtin("placeholder", 1, global_=True)
def placeholder(output: Any) -> str:
    """The placeholder a derivation's attributes use for output `output`'s path (the
    builder sees the real path there)."""
    name = expect_string_no_context(output, "the argument of 'placeholder'")
    return "/" + encode_base32(hashlib.sha256(f"nix-output:{name}".encode()).digest())


@builtin("getEnv", 1, context=True)
def get_env(ctx: EvalContext, name: Any) -> str:
    """The value of environment variable `name` ("" when unset)."""
    return ctx.environ.get(expect_string_text(name, "the argument of 'getEnv'"), "")


# ------------------------------------------------------------------ files


def _import_path(ctx: EvalContext, value: Any, what: str) -> str:
    """The path `import` reads, after building any derivation output it refers to."""
    path = coerce_to_path(value, ctx, what)
    context = string_context(path)
    if context:
        ctx.realise_context(context)
    return string_text(path)


@builtin("import", 1, global_=True, context=True)
def import_(ctx: EvalContext, path: Any) -> Any:
    """The value of the ndx (or Nix) file at `path`; a directory means its
    `default.ndx` (or `default.nix`). Each file is evaluated once."""
    target = _import_path(ctx, path, "the argument of 'import'")
    try:
        return ctx.import_file(target)
    except EvalError as error:
        error.add_frame(f"while importing '{target}'", None)
        raise


@builtin("scopedImport", 2, global_=True, context=True)
def scoped_import(ctx: EvalContext, scope: Any, path: Any) -> Any:
    """Like `import`, with the attributes of `scope` added to (and overriding) the
    names visible in the file."""
    attrs = expect_attrs(scope, "the first argument of 'scopedImport'")
    return ctx.program.scoped_import(attrs, _import_path(ctx, path,
                                                        "the second argument of "
                                                        "'scopedImport'"))


@builtin("findFile", 2, context=True)
def find_file_(ctx: EvalContext, search_path: Any, name: Any) -> Any:
    """Look `name` up in a search path (a list of `{ prefix; path; }`), as `<name>`
    does with `builtins.nixPath`."""
    entries: list[tuple[str, str]] = []
    for item in expect_list(search_path, "the first argument of 'findFile'"):
        attrs = expect_attrs(item, "an element of the search path")
        prefix = attrs.get("prefix")
        prefix_text = "" if prefix is None else expect_string_text(prefix, "'prefix'")
        if "path" not in attrs:
            raise EvalError("attribute 'path' missing in a search path element")
        path = coerce_to_string(attrs["path"], ctx, copy_to_store=False, what="'path'")
        if string_context(path):
            ctx.realise_context(string_context(path))
        entries.append((prefix_text, string_text(path)))
    text = expect_string_no_context(name, "the second argument of 'findFile'")
    return PathValue(find_file(ctx, entries, text))
