"""How store paths are named: `/ndx/store/<32-char hash>-<name>`.

The hash part is Nix's: the sha256 of a fingerprint `"<type>:sha256:<hex>:<store dir>:<name>"`
folded to 160 bits and printed in Nix base32. `type` says what the hash is of:

    source             a NAR-hashed tree (`"${./src}"`, recursive sha256 fixed outputs)
    text:<refs…>       a text file with references (`toFile`, `.drv` files)
    output:<name>      a derivation output (the hash of the derivation modulo fixed outputs)

so the same content or the same derivation always gets the same path, on every machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .encoding import base16, compress_hash, nix_base32, sha256

STORE_DIR = "/ndx/store"
"""The logical store directory: the path expressions, builds and images see."""

HASH_LENGTH = 32
"""Characters in a store path's hash part (160 bits of Nix base32)."""

MAX_NAME_LENGTH = 211

_NAME_OK = re.compile(r"[A-Za-z0-9+\-._?=]+")
_BASENAME = re.compile(r"[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+")


class InvalidNameError(ValueError):
    """A store path name with a character or length Nix does not allow."""


def check_name(name: str) -> str:
    """Return `name` if it may be a store path name, else raise InvalidNameError saying why."""
    if not name:
        raise InvalidNameError("store path name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(f"store path name '{name[:40]}…' is longer than "
                               f"{MAX_NAME_LENGTH} characters")
    if name.startswith("."):
        raise InvalidNameError(f"store path name '{name}' starts with a period")
    if not _NAME_OK.fullmatch(name):
        bad = next(c for c in name if not _NAME_OK.fullmatch(c))
        raise InvalidNameError(f"store path name '{name}' contains the character {bad!r}; "
                               "allowed are letters, digits and + - . _ ? =")
    return name


def make_store_path(kind: str, digest: bytes, name: str, store_dir: str = STORE_DIR) -> str:
    """The store path for content of `kind` whose sha256 is `digest`."""
    fingerprint = f"{kind}:sha256:{base16(digest)}:{store_dir}:{check_name(name)}"
    return f"{store_dir}/{nix_base32(compress_hash(sha256(fingerprint), 20))}-{name}"


def _with_references(kind: str, references: Iterable[str], self_reference: bool = False) -> str:
    parts = [kind, *sorted(references)]
    if self_reference:
        parts.append("self")
    return ":".join(parts)


def text_path(name: str, text: bytes, references: Iterable[str],
              store_dir: str = STORE_DIR) -> str:
    """The path of a text file (`toFile`, a `.drv`) with the given references."""
    return make_store_path(_with_references("text", references), sha256(text), name, store_dir)


def source_path(name: str, nar_sha256: bytes, store_dir: str = STORE_DIR) -> str:
    """The path of a tree added by content (recursive sha256, no references)."""
    return make_store_path("source", nar_sha256, name, store_dir)


def fixed_output_path(name: str, algo: str, digest: bytes, recursive: bool,
                      store_dir: str = STORE_DIR) -> str:
    """The path of a fixed-output derivation's `out` (and of a fetched file): it depends
    only on the expected hash and the name, never on how the content is obtained."""
    if recursive and algo == "sha256":
        return source_path(name, digest, store_dir)
    inner = f"fixed:out:{'r:' if recursive else ''}{algo}:{base16(digest)}:"
    return make_store_path("output:out", sha256(inner), name, store_dir)


def output_path_name(drv_name: str, output: str) -> str:
    """`name` for output `out`, `name-<output>` for the others (`redis-bin`)."""
    return drv_name if output == "out" else f"{drv_name}-{output}"


def output_path(drv_name: str, output: str, drv_hash: bytes, store_dir: str = STORE_DIR) -> str:
    """The path of output `output` of a derivation whose hash modulo is `drv_hash`."""
    return make_store_path(f"output:{output}", drv_hash, output_path_name(drv_name, output),
                           store_dir)


def placeholder(output: str) -> str:
    """`builtins.placeholder output`: a string the build replaces by the output's path."""
    return "/" + nix_base32(sha256("nix-output:" + output))


def ca_string(algo: str, digest: bytes, recursive: bool) -> str:
    """The database's content-address assertion: `fixed:r:sha256:<base32>` or
    `fixed:sha256:<base32>`."""
    return f"fixed:{'r:' if recursive else ''}{algo}:{nix_base32(digest)}"


def text_ca_string(text: bytes) -> str:
    """The content-address assertion of a text path."""
    return f"text:sha256:{nix_base32(sha256(text))}"


def is_store_path(path: str, store_dir: str = STORE_DIR) -> bool:
    """Whether `path` is exactly `<store dir>/<hash>-<name>` (nothing below it)."""
    prefix = store_dir + "/"
    return path.startswith(prefix) and bool(_BASENAME.fullmatch(path[len(prefix):]))


def to_store_path(path: str, store_dir: str = STORE_DIR) -> str:
    """The store path containing `path` (`/ndx/store/…-x/bin/sh` → `/ndx/store/…-x`);
    ValueError if `path` is not inside the store."""
    prefix = store_dir + "/"
    if not path.startswith(prefix):
        raise ValueError(f"'{path}' is not in the store ({store_dir})")
    base = path[len(prefix):].split("/", 1)[0]
    if not _BASENAME.fullmatch(base):
        raise ValueError(f"'{path}' is not a store path (expected {store_dir}/<hash>-<name>)")
    return prefix + base


def hash_part(path: str) -> str:
    """The 32-character hash part of a store path."""
    return path.rsplit("/", 1)[1][:HASH_LENGTH]


def name_part(path: str) -> str:
    """The name part of a store path (after `<hash>-`)."""
    return path.rsplit("/", 1)[1][HASH_LENGTH + 1:]
