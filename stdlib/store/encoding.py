"""Hash digests as text: base16, Nix's base32, base64 and SRI, and parsing them back.

The store needs these for path names (base32), the database (`sha256:<base32>`), `.drv`
files (base16) and fetchers' `sha256 = "…"` arguments (any of the four). The builtins
engineer's `ndx.evaluator.hashes` will own the encoders; until it lands they live here,
each in one small function, so swapping is a one-line change per function.
"""

from __future__ import annotations

import base64
import hashlib

# Nix's base32 alphabet: digits and lowercase letters without e, o, u, t (which could
# spell words or be mistaken for digits).
NIX_BASE32_ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"

# Digest sizes in bytes of the algorithms fixed-output derivations accept.
DIGEST_SIZES = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}

_BASE32_INDEX = {c: i for i, c in enumerate(NIX_BASE32_ALPHABET)}


def nix_base32(digest: bytes) -> str:
    """Encode `digest` in Nix's base32 (least significant 5-bit group printed first)."""
    length = (len(digest) * 8 - 1) // 5 + 1
    value = int.from_bytes(digest, "little")
    return "".join(NIX_BASE32_ALPHABET[(value >> (n * 5)) & 0x1F]
                   for n in range(length - 1, -1, -1))


def from_nix_base32(text: str, size: int) -> bytes:
    """Decode Nix base32 `text` into a digest of `size` bytes (ValueError if invalid)."""
    if len(text) != (size * 8 - 1) // 5 + 1:
        raise ValueError(f"wrong length for a {size}-byte base32 digest")
    value = 0
    for n, char in enumerate(reversed(text)):
        if char not in _BASE32_INDEX:
            raise ValueError(f"invalid base32 character {char!r}")
        value |= _BASE32_INDEX[char] << (n * 5)
    if value >> (size * 8):
        raise ValueError("base32 digest has bits beyond its size")
    return value.to_bytes(size, "little")


def base16(digest: bytes) -> str:
    """Lowercase hexadecimal."""
    return digest.hex()


def sri(algo: str, digest: bytes) -> str:
    """Subresource-integrity form, `sha256-<base64>`."""
    return f"{algo}-{base64.b64encode(digest).decode()}"


def compress_hash(digest: bytes, size: int) -> bytes:
    """Fold `digest` to `size` bytes by XOR, as Nix does for the 160-bit path hash."""
    out = bytearray(size)
    for i, byte in enumerate(digest):
        out[i % size] ^= byte
    return bytes(out)


def sha256(data: bytes | str) -> bytes:
    """The sha256 digest of `data` (text is encoded as UTF-8)."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).digest()


def parse_hash(text: str, algo: str | None = None) -> tuple[str, bytes]:
    """Parse a hash as Nix accepts it: SRI (`sha256-…`), `algo:digest`, or a bare digest
    in base16, Nix base32 or base64 whose algorithm is `algo`. Returns (algo, digest);
    raises ValueError with a readable reason."""
    text = text.strip()
    for name in DIGEST_SIZES:
        if text.startswith(name + "-"):
            return _checked(name, algo, _decode_any(text[len(name) + 1:], name, sri=True))
        if text.startswith(name + ":"):
            return _checked(name, algo, _decode_any(text[len(name) + 1:], name))
    if algo is None:
        raise ValueError(f"hash '{text}' does not say its algorithm "
                         "(write it in SRI form, e.g. 'sha256-…')")
    if algo not in DIGEST_SIZES:
        raise ValueError(f"unknown hash algorithm '{algo}'")
    return algo, _decode_any(text, algo)


def _checked(found: str, wanted: str | None, digest: bytes) -> tuple[str, bytes]:
    if wanted is not None and wanted != found:
        raise ValueError(f"hash is a {found} hash, but a {wanted} hash was expected")
    return found, digest


def _decode_any(text: str, algo: str, *, sri: bool = False) -> bytes:
    size = DIGEST_SIZES[algo]
    if not sri:
        if len(text) == size * 2:
            try:
                return bytes.fromhex(text)
            except ValueError:
                pass
        if len(text) == (size * 8 - 1) // 5 + 1:
            try:
                return from_nix_base32(text, size)
            except ValueError:
                pass
    try:
        digest = base64.b64decode(text, validate=True)
    except ValueError:
        digest = b""
    if len(digest) == size:
        return digest
    raise ValueError(f"'{text}' is not a valid {algo} hash (base16, base32, base64 or SRI)")
