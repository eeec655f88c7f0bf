"""Hash digests as text, for the store: the shared encoders of `ndx.evaluator.hashes`
(base16, Nix's base32, base64, SRI) under the short names the store uses, plus sha256.

Paths use base32, the database `sha256:<base32>`, `.drv` files base16 and fetchers'
`sha256 = "…"` arguments any of the forms `parse_hash` accepts.
"""

from __future__ import annotations

import hashlib

from ndx.evaluator.hashes import (
    BASE32_ALPHABET,
    DIGEST_SIZES,
    HashError,
    compress_hash,
    decode_base32,
    encode_base16,
    encode_base32,
    parse_hash,
    to_sri,
)

__all__ = ["DIGEST_SIZES", "NIX_BASE32_ALPHABET", "HashError", "base16", "compress_hash",
           "from_nix_base32", "nix_base32", "parse_hash", "sha256", "sri"]

NIX_BASE32_ALPHABET = BASE32_ALPHABET
"""Nix's base32 digits: no e, o, u, t (so hashes spell no words)."""

nix_base32 = encode_base32
"""Encode a digest in Nix's base32 (`0123456789abcdfghijklmnpqrsvwxyz`)."""

from_nix_base32 = decode_base32
"""Decode Nix base32 text into a digest of the given size (HashError if invalid)."""

base16 = encode_base16
"""Lowercase hexadecimal."""

sri = to_sri
"""Subresource-integrity form, `sha256-<base64>`."""


def sha256(data: bytes | str) -> bytes:
    """The sha256 digest of `data` (text is encoded as UTF-8; surrogate escapes, the
    bytes of an ndx string that are not UTF-8, as those bytes)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return hashlib.sha256(data).digest()
