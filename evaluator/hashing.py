"""Nix's base-32 encoding of hashes (store paths, placeholders), written out here because
the evaluator needs it for `builtins.placeholder` without reaching into the store."""

from __future__ import annotations

import hashlib

NIX_BASE32_ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"
"""Nix's base-32 digits: no e, o, u, t (to avoid accidental words)."""


def nix_base32(data: bytes) -> str:
    """`data` in Nix's base-32: least significant 5-bit group last, no padding."""
    length = (len(data) * 8 - 1) // 5 + 1
    out = []
    for n in range(length - 1, -1, -1):
        b = n * 5
        i = b // 8
        j = b % 8
        c = data[i] >> j
        if i + 1 < len(data):
            c |= data[i + 1] << (8 - j)
        out.append(NIX_BASE32_ALPHABET[c & 0x1F])
    return "".join(out)


def placeholder(output: str) -> str:
    """`builtins.placeholder output`: what a builder's environment replaces with the
    output's real path."""
    return "/" + nix_base32(hashlib.sha256(f"nix-output:{output}".encode()).digest())
