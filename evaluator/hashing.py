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


HASH_SIZES = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}
"""Digest sizes in bytes of the hash algorithms Nix accepts for fixed outputs."""


def nix_base32_decode(text: str, size: int) -> bytes:
    """The `size` bytes a Nix base-32 string encodes (ValueError when malformed)."""
    out = bytearray(size)
    for n, char in enumerate(reversed(text)):
        digit = NIX_BASE32_ALPHABET.find(char)
        if digit < 0:
            raise ValueError(f"invalid base-32 character {char!r}")
        b = n * 5
        i = b // 8
        j = b % 8
        out[i] |= (digit << j) & 0xFF
        carry = digit >> (8 - j)
        if i + 1 < size:
            out[i + 1] |= carry
        elif carry:
            raise ValueError("base-32 hash has too many bits")
    return bytes(out)


def parse_hash(text: str, algo: str | None) -> tuple[str, bytes]:
    """Parse a hash as Nix writes them: SRI (`sha256-<base64>`), `algo:digest`, or a
    bare digest in base 16, Nix base 32 or base 64 when `algo` is given. Returns
    (algorithm, digest); ValueError explains what is wrong."""
    import base64
    import binascii

    if "-" in text and text.split("-", 1)[0] in HASH_SIZES:
        algo_in, digest = text.split("-", 1)
        size = HASH_SIZES[algo_in]
        if algo and algo != algo_in:
            raise ValueError(f"hash '{text}' should have type '{algo}'")
        raw = base64.b64decode(digest, validate=True)
        if len(raw) != size:
            raise ValueError(f"invalid SRI hash '{text}'")
        return algo_in, raw
    if ":" in text and text.split(":", 1)[0] in HASH_SIZES:
        algo_in, text = text.split(":", 1)
        if algo and algo != algo_in:
            raise ValueError(f"hash should have type '{algo}'")
        algo = algo_in
    if not algo:
        raise ValueError(f"hash '{text}' does not include a type, nor is the type otherwise "
                         "known from context")
    if algo not in HASH_SIZES:
        raise ValueError(f"unknown hash algorithm '{algo}'")
    size = HASH_SIZES[algo]
    try:
        if len(text) == size * 2:
            return algo, binascii.unhexlify(text)
        if len(text) == (size * 8 - 1) // 5 + 1:
            return algo, nix_base32_decode(text, size)
        if len(text) == (size + 2) // 3 * 4:
            raw = base64.b64decode(text, validate=True)
            if len(raw) == size:
                return algo, raw
    except (ValueError, binascii.Error) as exc:
        raise ValueError(f"invalid {algo} hash '{text}': {exc}") from None
    raise ValueError(f"hash '{text}' has wrong length for hash type '{algo}'")
