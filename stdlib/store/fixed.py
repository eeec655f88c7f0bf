"""Checking content against a fixed-output hash, and the message when it differs."""

from __future__ import annotations

import os

from ndx.evaluator.io import FixedOutput

from .encoding import nix_base32, sri
from .errors import HashMismatchError
from .nar import hash_file, hash_path


def content_hash(path: str, algo: str, recursive: bool) -> bytes:
    """The hash a fixed output declares: of the NAR (recursive) or of the file's bytes."""
    if recursive:
        return hash_path(path, algo=algo)[0]
    return hash_file(path, algo)


def check_fixed_tree(path: str, fixed: FixedOutput, what: str) -> None:
    """Raise HashMismatchError (naming `what`) unless `path` has the content `fixed`
    declares."""
    if not fixed.recursive and (os.path.islink(path) or not os.path.isfile(path)):
        raise HashMismatchError(f"{what}: a flat fixed-output hash needs a single regular "
                                "file, but the result is a directory or symlink "
                                '(use outputHashMode = "recursive")')
    actual = content_hash(path, fixed.algo, fixed.recursive)
    if actual != fixed.digest:
        raise HashMismatchError(mismatch_message(what, fixed.algo, fixed.digest, actual))


def mismatch_message(what: str, algo: str, expected: bytes, actual: bytes) -> str:
    """The hash-mismatch report, giving both hashes in SRI and base32 form."""
    return (f"hash mismatch in fixed-output {what}:\n"
            f"  specified: {sri(algo, expected)}  ({algo}:{nix_base32(expected)})\n"
            f"  got:       {sri(algo, actual)}  ({algo}:{nix_base32(actual)})")
