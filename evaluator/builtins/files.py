"""Files and store paths: `readFile readDir pathExists path filterSource hashFile
toFile toPath storePath`.

Reading (`readFile`, `readDir`, `pathExists`, `hashFile`) works on any absolute path;
a path inside the store is first made valid (building it if a string's context says it
is a derivation output: import-from-derivation) and read where the store keeps its
bytes. Writing to the store (`path`, `filterSource`, `toFile`) and `storePath` go
through the evaluation context's `StoreIO`; without a store they raise
NotAvailableError.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from ..coerce import (
    coerce_to_path,
    expect_attrs,
    expect_bool,
    expect_function,
    expect_string,
    expect_string_no_context,
)
from ..context import EvalContext
from ..errors import EvalError
from ..hashes import HashError, compress_hash, encode_base32, hash_bytes, new_hasher, parse_hash
from ..paths import canonical_path
from ..runtime import apply
from ..values import ContextString, Thunk, make_string
from .context import is_store_path
from .registry import builtin
from .strings import base_name, from_bytes


def _text_and_context(value: Any) -> tuple[str, frozenset[str]]:
    if type(value) is str:
        return value, frozenset()
    return value.text, value.context


def real_path(ctx: EvalContext, value: Any, what: str) -> str:
    """Nix's `realisePath`: the absolute path a value denotes, with the store paths its
    context names made valid, mapped to where its bytes are on this machine."""
    return ctx.host_path(_realised_path(ctx, value, what))


def _realised_path(ctx: EvalContext, value: Any, what: str) -> str:
    """The absolute (logical) path a value denotes, its context's store paths made valid."""
    path, context = _text_and_context(coerce_to_path(value, ctx, what))
    if context:
        ctx.realise_context(context)
    return path


def _os_error(action: str, path: str, error: OSError) -> EvalError:
    return EvalError(f"{action} '{path}': {error.strerror or error}")


@builtin("readFile", 1, context=True)
def read_file(ctx: EvalContext, p: Any) -> Any:
    """Return the contents of a file as a string. A file in the store gives a string
    whose context is the store paths its store object refers to and whose names occur
    in the contents, so a derivation using the string depends on them."""
    logical = _realised_path(ctx, p, "the argument of 'readFile'")
    path = ctx.host_path(logical)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise _os_error("opening file", path, error) from None
    if b"\x00" in data:
        raise EvalError(f"the contents of the file '{path}' cannot be represented as a "
                        "Nix string")
    return make_string(from_bytes(data), _references_in(ctx, logical, data))


def _references_in(ctx: EvalContext, path: str, data: bytes) -> frozenset[str]:
    """The references of the store object holding `path` that occur in `data` (by their
    hash part, as the store's reference scanner finds them); none outside the store.
    Nix does this since 2.12 (2.8 gave such strings no context at all)."""
    if ctx.store is None or not ctx.is_store_path(path):
        return frozenset()
    store_path = ctx.store_path_of(path)
    if not ctx.store.is_valid(store_path):
        return frozenset()
    start = len(ctx.store_dir) + 1
    return frozenset(ref for ref in ctx.store.references(store_path)
                     if ref[start:start + 32].encode("ascii") in data)


def _entry_type(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "regular"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "unknown"


@builtin("readDir", 1, context=True)
def read_dir(ctx: EvalContext, p: Any) -> dict[str, str]:
    """Return a directory's entries as a set from name to type: "regular",
    "directory", "symlink" or "unknown"."""
    path = real_path(ctx, p, "the argument of 'readDir'")
    try:
        with os.scandir(path) as entries:
            return {from_bytes(os.fsencode(e.name)): _entry_type(e.stat(follow_symlinks=False)
                                                                 .st_mode)
                    for e in entries}
    except OSError as error:
        raise _os_error("opening directory", path, error) from None


@builtin("pathExists", 1, context=True)
def path_exists(ctx: EvalContext, p: Any) -> bool:
    """Return whether a path exists (a dangling symbolic link counts)."""
    path = real_path(ctx, p, "the argument of 'pathExists'")
    try:
        os.lstat(path)
    except OSError:
        return False
    return True


@builtin("hashFile", 2, context=True)
def hash_file(ctx: EvalContext, algo: Any, p: Any) -> str:
    """Return the base-16 hash of a file's contents ("md5", "sha1", "sha256",
    "sha512")."""
    name = expect_string_no_context(algo, "the first argument of 'hashFile'")
    path = real_path(ctx, p, "the second argument of 'hashFile'")
    try:
        hasher = new_hasher(name)
    except HashError as error:
        raise EvalError(str(error)) from None
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(chunk)
    except OSError as error:
        raise _os_error("opening file", path, error) from None
    return hasher.hexdigest()


# ------------------------------------------------------------------ adding to the store


def make_store_path(kind: str, digest: bytes, name: str, store_dir: str) -> str:
    """Nix's `makeStorePath` for a SHA-256 `digest`."""
    fingerprint = f"{kind}:sha256:{digest.hex()}:{store_dir}:{name}"
    folded = compress_hash(hash_bytes("sha256", fingerprint.encode()), 20)
    return f"{store_dir}/{encode_base32(folded)}-{name}"


def expected_store_path(recursive: bool, digest: bytes, name: str, store_dir: str) -> str:
    """Where a source with this SHA-256 (of its NAR when `recursive`, of the file
    otherwise) lands in the store (Nix's `makeFixedOutputPath`)."""
    if recursive:
        return make_store_path("source", digest, name, store_dir)
    inner = hash_bytes("sha256", f"fixed:out:sha256:{digest.hex()}:".encode())
    return make_store_path("output:out", inner, name, store_dir)


def _filter_callback(function: Any) -> Any:
    def keep(path: str, kind: str) -> bool:
        verdict = apply(apply(function, path), kind)
        if verdict is True or verdict is False:
            return bool(verdict)
        return expect_bool(verdict, "the return value of the path filter")
    return keep


def add_path(ctx: EvalContext, name: str, path: str, context: frozenset[str],
             filter_function: Any, recursive: bool, expected: bytes | None) -> Any:
    """Copy a host path into the store as `path`/`filterSource` do; the result is its
    store path as a string that refers to it."""
    store = ctx.require_store(f"adding '{path}' to the store")
    if context:
        ctx.realise_context(context)
    source = ctx.host_path(path)
    target = None
    if expected is not None:
        target = expected_store_path(recursive, expected, name, store.store_dir)
        if store.is_valid(target):
            return ContextString(target, frozenset((target,)))
    keep = _filter_callback(filter_function) if filter_function is not None else None
    try:
        result = store.add_path(source, name=name, recursive=recursive, filter=keep)
    except OSError as error:
        raise _os_error("adding path", path, error) from None
    if target is not None and result != target:
        raise EvalError(f"store path mismatch in (possibly filtered) path added from "
                        f"'{path}'")
    return ContextString(result, frozenset((result,)))


@builtin("path", 1, context=True)
def path_(ctx: EvalContext, args: Any) -> Any:
    """Copy a path into the store: `path { path = ./src; name ? …; filter ? …;
    recursive ? true; sha256 ? …; }`, returning its store path."""
    table = expect_attrs(args, "the argument of 'path'")
    path = ""
    context: frozenset[str] = frozenset()
    name = ""
    filter_function = None
    recursive = True
    expected = None
    for key in sorted(table):
        value = table[key]
        if key == "path":
            path, context = _text_and_context(
                coerce_to_path(value, ctx, "the 'path' attribute passed to 'path'"))
        elif key == "name":
            name = expect_string_no_context(value, "the 'name' attribute passed to 'path'")
        elif key == "filter":
            filter_function = value.force() if type(value) is Thunk else value
        elif key == "recursive":
            recursive = expect_bool(value, "the 'recursive' attribute passed to 'path'")
        elif key == "sha256":
            text = expect_string_no_context(value, "the 'sha256' attribute passed to 'path'")
            if text:
                try:
                    expected = parse_hash(text, "sha256")[1]
                except HashError as error:
                    raise EvalError(str(error)) from None
        else:
            raise EvalError(f"unsupported argument '{key}' to 'addPath'")
    if not path:
        raise EvalError("'path' required")
    if not name:
        name = base_name(path)
    return add_path(ctx, name, path, context, filter_function, recursive, expected)


@builtin("filterSource", 2, context=True)
def filter_source(ctx: EvalContext, f: Any, p: Any) -> Any:
    """Copy a path into the store keeping only the entries for which `f path type` is
    true (`type` is "regular", "directory", "symlink" or "unknown")."""
    path, context = _text_and_context(
        coerce_to_path(p, ctx, "the second argument of 'filterSource'"))
    function = expect_function(f, "the first argument of 'filterSource'")
    return add_path(ctx, base_name(path), path, context, function, True, None)


@builtin("toFile", 2, context=True)
def to_file(ctx: EvalContext, name: Any, contents: Any) -> Any:
    """Write a string to a file in the store and return its path; the file refers to
    the store paths in the string's context (which must not name derivations)."""
    file_name = expect_string_no_context(name, "the first argument of 'toFile'")
    text, context = _text_and_context(expect_string(contents, "the second argument of "
                                                              "'toFile'"))
    references = []
    for element in sorted(context):
        if not element.startswith("/"):
            raise EvalError(f"in 'toFile': the file named '{file_name}' must not contain a "
                            f"reference to a derivation but contains ({element})")
        references.append(element)
    store = ctx.require_store("builtins.toFile")
    result = store.add_text(file_name, text, references)
    return ContextString(result, frozenset((result,)))


@builtin("toPath", 1, context=True)
def to_path(ctx: EvalContext, p: Any) -> Any:
    """Return the canonical form of an absolute path, as a string (deprecated)."""
    path, context = _text_and_context(coerce_to_path(p, ctx, "the argument of 'toPath'"))
    return make_string(canonical_path(path), context)


@builtin("storePath", 1, context=True)
def store_path(ctx: EvalContext, p: Any) -> Any:
    """Return a store path (or a path inside one) as a string that refers to it, making
    sure the store has it."""
    path, context = _text_and_context(coerce_to_path(p, ctx,
                                                     "the argument of 'storePath'"))
    store_dir = ctx.store_dir
    if not is_store_path(store_dir, path):
        path = os.path.realpath(canonical_path(path))
    if not path.startswith(store_dir + "/"):
        raise EvalError(f"path '{path}' is not in the Nix store")
    root = ctx.store_path_of(path)
    store = ctx.require_store("builtins.storePath")
    if not store.is_valid(root):
        raise EvalError(f"path '{root}' is not valid")
    return ContextString(path, context | {root})

