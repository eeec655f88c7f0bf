"""Hashes as Nix computes, prints and parses them: the one module for hash encodings.

Nix writes a digest in four ways, and `hashString`, `hashFile`, fixed-output derivations,
store paths and `nix hash` all use one of them:

    base16   lower-case hex                      "ba7816bf…"
    base32   Nix's own base 32 (see below)       "1b8m03r6…"
    base64   standard alphabet, padded           "ungWv48B…="
    sri      "<algo>-" + base64                   "sha256-ungWv48B…="

Nix's base 32 is unusual twice over: its alphabet omits e, o, u and t (no accidental
words), and it treats the digest as one little-endian number and prints that number's
5-bit groups from the most significant down, so the *last* byte comes out *first*. Neither
`base64.b32encode` nor any other library does this.

    digest = hash_bytes("sha256", b"abc")
    format_hash("sha256", digest, "sri")
    # 'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='
    parse_hash("sha256:1b8m03r6…")                # ('sha256', digest)
    compress_hash(digest, 20)                     # the 160-bit fold store paths use

Everything here is pure (bytes in, text out); errors a user can cause raise `HashError`
(a ValueError) with Nix's wording, which callers turn into their own error type.
"""

from __future__ import annotations

import hashlib
from typing import Literal

ALGORITHMS: tuple[str, ...] = ("md5", "sha1", "sha256", "sha512")
"""The hash algorithms Nix 2.8 knows, by the names it uses."""

DIGEST_SIZES: dict[str, int] = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}
"""Digest size in bytes of each algorithm."""

BASE32_ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"
"""Nix's base-32 digits, value 0 first: the ten digits and 22 letters (no e, o, u, t)."""

_BASE32_VALUE = {c: n for n, c in enumerate(BASE32_ALPHABET)}
_BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BASE64_VALUE = {c: n for n, c in enumerate(_BASE64_ALPHABET)}
_HEX_VALUE = {c: int(c, 16) for c in "0123456789abcdefABCDEF"}

Encoding = Literal["base16", "base32", "base64", "sri"]


class HashError(ValueError):
    """A malformed hash or an unknown algorithm; the message is Nix's."""


# ------------------------------------------------------------------ computing


def check_algorithm(algo: str) -> str:
    """`algo` itself when Nix knows it, else HashError "unknown hash algorithm 'x'"."""
    if algo not in DIGEST_SIZES:
        raise HashError(f"unknown hash algorithm '{algo}'")
    return algo


def hash_bytes(algo: str, data: bytes) -> bytes:
    """The `algo` digest of `data`."""
    return hashlib.new(check_algorithm(algo), data).digest()


def new_hasher(algo: str) -> hashlib._Hash:
    """An incremental hasher (`update(bytes)`, `digest()`) for large inputs."""
    return hashlib.new(check_algorithm(algo))


def compress_hash(digest: bytes, size: int) -> bytes:
    """Nix's `compressHash`: fold `digest` to `size` bytes by XOR-ing byte i into
    position i mod size (store path hashes are a SHA-256 folded to 20 bytes)."""
    out = bytearray(size)
    for i, byte in enumerate(digest):
        out[i % size] ^= byte
    return bytes(out)


# ------------------------------------------------------------------ lengths


def base16_length(size: int) -> int:
    """Characters in the base-16 form of a `size`-byte digest."""
    return size * 2


def base32_length(size: int) -> int:
    """Characters in the Nix base-32 form of a `size`-byte digest."""
    return (size * 8 - 1) // 5 + 1


def base64_length(size: int) -> int:
    """Characters in the padded base-64 form of a `size`-byte digest."""
    return ((4 * size // 3) + 3) & ~3


# ------------------------------------------------------------------ encoding


def encode_base16(digest: bytes) -> str:
    """Lower-case hex."""
    return digest.hex()


def encode_base32(digest: bytes) -> str:
    """Nix's base 32: the digest read as a little-endian number, printed most significant
    5-bit group first (so works for any length, e.g. the 20-byte store path hashes)."""
    if not digest:
        return ""
    number = int.from_bytes(digest, "little")
    length = base32_length(len(digest))
    alphabet = BASE32_ALPHABET
    return "".join(alphabet[(number >> (5 * n)) & 0x1F] for n in range(length - 1, -1, -1))


def encode_base64(digest: bytes) -> str:
    """Standard base 64 with `=` padding."""
    import base64

    return base64.b64encode(digest).decode("ascii")


def format_hash(algo: str, digest: bytes, encoding: Encoding = "base32", *,
                include_algo: bool = False) -> str:
    """`digest` written as Nix's `Hash::to_string(encoding, include_algo)` does:
    `algo:` prefixes the base16/32/64 forms when asked; SRI always names the algorithm."""
    if encoding == "base16":
        text = encode_base16(digest)
    elif encoding == "base32":
        text = encode_base32(digest)
    elif encoding == "base64":
        text = encode_base64(digest)
    elif encoding == "sri":
        return f"{algo}-{encode_base64(digest)}"
    else:
        raise ValueError(f"unknown hash encoding {encoding!r}")
    return f"{algo}:{text}" if include_algo else text


def to_sri(algo: str, digest: bytes) -> str:
    """The SRI form `algo-<base64>`."""
    return f"{algo}-{encode_base64(digest)}"


# ------------------------------------------------------------------ decoding


def decode_base16(text: str, size: int) -> bytes:
    """The digest a hex string of exactly `size * 2` characters encodes (either case)."""
    if len(text) != base16_length(size):
        raise HashError(f"invalid base-16 hash '{text}'")
    try:
        return bytes(_HEX_VALUE[text[i]] << 4 | _HEX_VALUE[text[i + 1]]
                     for i in range(0, len(text), 2))
    except KeyError:
        raise HashError(f"invalid base-16 hash '{text}'") from None


def decode_base32(text: str, size: int) -> bytes:
    """The `size`-byte digest a Nix base-32 string encodes; HashError on a bad digit or
    bits beyond the digest (what Nix rejects)."""
    number = 0
    try:
        for char in text:
            number = number << 5 | _BASE32_VALUE[char]
    except KeyError:
        raise HashError(f"invalid base-32 hash '{text}'") from None
    if number >> (8 * size):
        raise HashError(f"invalid base-32 hash '{text}'")
    return number.to_bytes(size, "little")


def decode_base64(text: str) -> bytes:
    """Nix's lenient base-64 decoder: stops at the first `=`, skips newlines, rejects any
    other character outside the alphabet; trailing bits that make no byte are dropped."""
    out = bytearray()
    acc = 0
    bits = 0
    for char in text:
        if char == "=":
            break
        if char == "\n":
            continue
        digit = _BASE64_VALUE.get(char)
        if digit is None:
            raise HashError(f"invalid character in Base64 string: '{char}'")
        acc = (acc << 6 | digit) & 0xFFFF
        bits += 6
        if bits >= 8:
            out.append(acc >> (bits - 8) & 0xFF)
            bits -= 8
    return bytes(out)


def decode_digest(text: str, algo: str, *, sri: bool = False) -> bytes:
    """The digest `text` encodes for `algo`, the encoding told apart by length as Nix
    does (base16, then base32, then base64; an SRI body is always base64)."""
    size = DIGEST_SIZES[check_algorithm(algo)]
    if not sri and len(text) == base16_length(size):
        return decode_base16(text, size)
    if not sri and len(text) == base32_length(size):
        return decode_base32(text, size)
    if sri or len(text) == base64_length(size):
        digest = decode_base64(text)
        if len(digest) != size:
            kind = "SRI" if sri else "base-64"
            raise HashError(f"invalid {kind} hash '{text}'")
        return digest
    raise HashError(f"hash '{text}' has wrong length for hash type '{algo}'")


def _split_algorithm(text: str) -> tuple[str | None, str, bool]:
    """("algo", rest, is_sri) for "algo:rest" / "algo-rest", else (None, text, False)."""
    head, sep, rest = text.partition(":")
    if sep:
        return check_algorithm(head), rest, False
    head, sep, rest = text.partition("-")
    if sep:
        return check_algorithm(head), rest, True
    return None, text, False


def parse_hash(text: str, algo: str | None = None) -> tuple[str, bytes]:
    """Nix's `Hash::parseAny`: `algo:digest` (base 16/32/64), SRI `algo-base64`, or a
    bare digest whose algorithm `algo` supplies. When both name an algorithm they must
    agree. Returns (algorithm, digest)."""
    named, rest, sri = _split_algorithm(text)
    if named is None and algo is None:
        raise HashError(f"hash '{rest}' does not include a type, nor is the type otherwise "
                        "known from context")
    if named is not None and algo is not None and named != algo:
        raise HashError(f"hash '{text}' should have type '{algo}'")
    chosen = named if named is not None else check_algorithm(algo)  # type: ignore[arg-type]
    return chosen, decode_digest(rest, chosen, sri=sri)


def parse_prefixed_hash(text: str) -> tuple[str, bytes]:
    """Nix's `Hash::parseAnyPrefixed`: like `parse_hash`, but the text must name its
    algorithm itself."""
    named, rest, sri = _split_algorithm(text)
    if named is None:
        raise HashError(f"hash '{rest}' does not include a type")
    return named, decode_digest(rest, named, sri=sri)


def parse_sri(text: str) -> tuple[str, bytes]:
    """An SRI hash `algo-base64` only."""
    head, sep, rest = text.partition("-")
    if not sep:
        raise HashError(f"hash '{text}' is not SRI")
    return check_algorithm(head), decode_digest(rest, head, sri=True)
