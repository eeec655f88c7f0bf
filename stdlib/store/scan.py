"""Finding a build output's references: which store paths' hash parts occur in it.

Every file's contents and every symlink target is read as a stream of bytes and searched
for runs of Nix-base32 characters; each 32-character window of a run is looked up among
the candidates' hash parts. Binaries keep store paths as plain strings, so this finds
every path a program can open at run time — and nothing that was only used to build it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

from .encoding import NIX_BASE32_ALPHABET
from .paths import HASH_LENGTH, hash_part

CHUNK = 1 << 20

# Bytes of Nix's base32 alphabet map to 1, all others to 0: runs of candidate
# characters are then found with bytes.find, at C speed.
_MARK = bytes(1 if chr(i) in NIX_BASE32_ALPHABET else 0 for i in range(256))
_RUN = b"\x01" * HASH_LENGTH


class _Scanner:
    """Accumulates the candidate hash parts seen in a stream of bytes."""

    def __init__(self, hashes: dict[bytes, str]) -> None:
        self.hashes = hashes
        self.found: set[str] = set()

    def scan(self, data: bytes) -> None:
        hashes = self.hashes
        marks = data.translate(_MARK)
        start = marks.find(_RUN)
        while start != -1:
            end = marks.find(b"\0", start)
            if end == -1:
                end = len(marks)
            for offset in range(start, end - HASH_LENGTH + 1):
                path = hashes.get(data[offset:offset + HASH_LENGTH])
                if path is not None:
                    self.found.add(path)
            start = marks.find(_RUN, end)

    def scan_file(self, file: str) -> None:
        tail = b""
        with open(file, "rb") as stream:
            while chunk := stream.read(CHUNK):
                # Carry the previous chunk's end over, so a hash split across the
                # boundary is still seen.
                self.scan(tail + chunk)
                tail = chunk[-(HASH_LENGTH - 1):]


def scan_references(path: str, candidates: Iterable[str]) -> set[str]:
    """The subset of store paths `candidates` whose hash part occurs in the tree at
    `path` (file contents and symlink targets)."""
    hashes = {hash_part(c).encode(): c for c in candidates}
    scanner = _Scanner(hashes)
    if not hashes:
        return set()
    _walk(path, scanner)
    return scanner.found


def _walk(path: str, scanner: _Scanner) -> None:
    st = os.lstat(path)
    if stat.S_ISREG(st.st_mode):
        scanner.scan_file(path)
    elif stat.S_ISLNK(st.st_mode):
        scanner.scan(os.fsencode(os.readlink(path)))
    elif stat.S_ISDIR(st.st_mode):
        for name in sorted(os.listdir(path)):
            scanner.scan(os.fsencode(name))   # as Nix, which scans the NAR, names count too
            _walk(os.path.join(path, name), scanner)
