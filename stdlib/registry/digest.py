"""Content digests (`sha256:<hex>`): parsing, hashing files and streams, and the Nix
base-32 spelling `ndx prefetch-image` prints for `sha256 = "…"`."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import BinaryIO

from .errors import DigestMismatchError, RegistryError

# Digest algorithms a registry may use, with their hex lengths.
ALGORITHMS = {"sha256": 64, "sha512": 128}
_DIGEST_RE = re.compile(r"(sha256|sha512):([0-9a-f]+)")
# Nix's base-32 alphabet (no e, o, u, t).
_NIX32 = "0123456789abcdfghijklmnpqrsvwxyz"
_CHUNK = 1 << 20


def check_digest(digest: str) -> tuple[str, str]:
    """Split a digest into (algorithm, hex), refusing anything malformed: a digest from a
    registry ends up in file names, so it must be exactly `algo:hex`."""
    match = _DIGEST_RE.fullmatch(digest)
    if not match or len(match.group(2)) != ALGORITHMS[match.group(1)]:
        raise RegistryError(f"invalid or unsupported digest {digest!r}",
                            hint="expected sha256:<64 hex digits>")
    return match.group(1), match.group(2)


def hasher(digest: str) -> hashlib._Hash:
    """A fresh hash object of the algorithm `digest` uses."""
    return hashlib.new(check_digest(digest)[0])


def sha256_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_digest(path: str, algorithm: str = "sha256") -> str:
    """The digest of a file's bytes."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return f"{algorithm}:{h.hexdigest()}"


def verify_bytes(data: bytes, digest: str, what: str) -> None:
    """Raise `DigestMismatchError` unless `data` hashes to `digest`."""
    h = hasher(digest)
    h.update(data)
    actual = f"{check_digest(digest)[0]}:{h.hexdigest()}"
    if actual != digest:
        raise DigestMismatchError(f"{what}: content has digest {actual}, expected {digest}")


def copy_hashing(src: BinaryIO, dst: BinaryIO, h: hashlib._Hash) -> int:
    """Copy `src` to `dst` feeding `h`; return the byte count."""
    n = 0
    while chunk := src.read(_CHUNK):
        h.update(chunk)
        dst.write(chunk)
        n += len(chunk)
    return n


def nix32(raw: bytes) -> str:
    """Nix's base-32 encoding of a raw digest (what `nix-hash --type sha256 --base32`
    prints), so a printed hash can be pasted as `sha256 = "…"`."""
    bits = len(raw) * 8
    length = (bits + 4) // 5
    out = []
    for n in range(length - 1, -1, -1):
        b = n * 5
        i, j = divmod(b, 8)
        c = raw[i] >> j
        if i + 1 < len(raw):
            c |= raw[i + 1] << (8 - j)
        out.append(_NIX32[c & 0x1F])
    return "".join(out)


def sri(algorithm: str, raw: bytes) -> str:
    """The SRI form `sha256-<base64>` accepted as `hash = "…"`."""
    return f"{algorithm}-{base64.b64encode(raw).decode()}"
