"""The NAR serialization (Nix ARchive): a canonical byte stream for a file tree.

A store path's content hash is the sha256 of its NAR, so two trees hash equal exactly
when they have the same names, file contents, executable bits and symlink targets —
timestamps, owners and other permission bits do not take part. Directory entries are
sorted bytewise, every string is length-prefixed and padded to 8 bytes:

    "nix-archive-1" node
    node = "(" "type" "regular" ["executable" ""] "contents" bytes ")"
         | "(" "type" "symlink" "target" target ")"
         | "(" "type" "directory" ("entry" "(" "name" name "node" node ")")* ")"

Everything here streams: files are read in chunks and never held whole in memory.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass

CHUNK = 1 << 20

# A filter decides whether an entry (host path, type) is kept; see `StoreIO.add_path`.
Filter = Callable[[str, str], bool]


class NarError(Exception):
    """A tree that cannot be serialized (a socket, a device, a file changing under us)."""


def _str(data: bytes) -> bytes:
    return len(data).to_bytes(8, "little") + data + b"\0" * (-len(data) % 8)


_MAGIC = _str(b"nix-archive-1")
_OPEN, _CLOSE = _str(b"("), _str(b")")
_TYPE = _str(b"type")
_REGULAR = _OPEN + _TYPE + _str(b"regular")
_EXECUTABLE = _str(b"executable") + _str(b"")
_CONTENTS = _str(b"contents")
_SYMLINK = _OPEN + _TYPE + _str(b"symlink") + _str(b"target")
_DIRECTORY = _OPEN + _TYPE + _str(b"directory")
_ENTRY, _NAME, _NODE = _str(b"entry"), _str(b"name"), _str(b"node")


def entry_type(mode: int) -> str:
    """The type name a filter sees: "regular", "directory", "symlink" or "unknown"."""
    if stat.S_ISREG(mode):
        return "regular"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "unknown"


def dump(path: str, filter: Filter | None = None) -> Iterator[bytes]:
    """Yield the NAR serialization of the file tree at `path` in pieces.

    `filter(path, type)` is asked about every entry below the top (never the top itself,
    like Nix) and a rejected directory is skipped whole."""
    yield _MAGIC
    yield from _dump_node(path, filter)


def _dump_node(path: str, filter: Filter | None) -> Iterator[bytes]:
    st = os.lstat(path)
    mode = st.st_mode
    if stat.S_ISREG(mode):
        yield _REGULAR + (_EXECUTABLE if mode & stat.S_IXUSR else b"") + _CONTENTS
        size = st.st_size
        yield size.to_bytes(8, "little")
        remaining = size
        with open(path, "rb") as file:
            while remaining:
                chunk = file.read(min(CHUNK, remaining))
                if not chunk:
                    raise NarError(f"file '{path}' shrank while it was being read")
                remaining -= len(chunk)
                yield chunk
            if file.read(1):
                raise NarError(f"file '{path}' grew while it was being read")
        yield b"\0" * (-size % 8) + _CLOSE
    elif stat.S_ISLNK(mode):
        yield _SYMLINK + _str(os.fsencode(os.readlink(path))) + _CLOSE
    elif stat.S_ISDIR(mode):
        yield _DIRECTORY
        for name in sorted(os.listdir(path), key=os.fsencode):
            child = os.path.join(path, name)
            if filter is not None and not filter(child, entry_type(os.lstat(child).st_mode)):
                continue
            yield _ENTRY + _OPEN + _NAME + _str(os.fsencode(name)) + _NODE
            yield from _dump_node(child, filter)
            yield _CLOSE
        yield _CLOSE
    else:
        raise NarError(f"'{path}' is a {_kind(mode)}, which a store path cannot hold "
                       "(only regular files, directories and symlinks)")


def _kind(mode: int) -> str:
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device file"
    return "special file"


def hash_path(path: str, filter: Filter | None = None, algo: str = "sha256") -> tuple[bytes, int]:
    """The digest and byte size of the NAR serialization of `path`."""
    hasher = hashlib.new(algo)
    size = 0
    for piece in dump(path, filter):
        hasher.update(piece)
        size += len(piece)
    return hasher.digest(), size


def hash_file(path: str, algo: str = "sha256") -> bytes:
    """The digest of a regular file's bytes (a "flat" hash)."""
    hasher = hashlib.new(algo)
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            hasher.update(chunk)
    return hasher.digest()


# ---- in-memory trees (the memory store keeps contents this way) ----

@dataclass(frozen=True)
class Regular:
    """A regular file in memory."""

    contents: bytes
    executable: bool = False


@dataclass(frozen=True)
class Symlink:
    """A symbolic link in memory."""

    target: str


@dataclass(frozen=True)
class Directory:
    """A directory in memory: entry name → node."""

    entries: dict[str, Regular | Symlink | Directory]


Node = Regular | Symlink | Directory


def read_tree(path: str, filter: Filter | None = None) -> Node:
    """Read the file tree at `path` into memory (applying `filter` as `dump` does)."""
    st = os.lstat(path)
    if stat.S_ISREG(st.st_mode):
        with open(path, "rb") as file:
            return Regular(file.read(), bool(st.st_mode & stat.S_IXUSR))
    if stat.S_ISLNK(st.st_mode):
        return Symlink(os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        entries: dict[str, Node] = {}
        for name in os.listdir(path):
            child = os.path.join(path, name)
            if filter is None or filter(child, entry_type(os.lstat(child).st_mode)):
                entries[name] = read_tree(child, filter)
        return Directory(entries)
    raise NarError(f"'{path}' is a {_kind(st.st_mode)}, which a store path cannot hold "
                   "(only regular files, directories and symlinks)")


def dump_tree(node: Node) -> Iterator[bytes]:
    """Yield the NAR serialization of an in-memory tree (equal to `dump` of its files)."""
    yield _MAGIC
    yield from _dump_tree_node(node)


def _dump_tree_node(node: Node) -> Iterator[bytes]:
    if isinstance(node, Regular):
        yield (_REGULAR + (_EXECUTABLE if node.executable else b"") + _CONTENTS
               + _str(node.contents) + _CLOSE)
    elif isinstance(node, Symlink):
        yield _SYMLINK + _str(os.fsencode(node.target)) + _CLOSE
    else:
        yield _DIRECTORY
        for name in sorted(node.entries, key=os.fsencode):
            yield _ENTRY + _OPEN + _NAME + _str(os.fsencode(name)) + _NODE
            yield from _dump_tree_node(node.entries[name])
            yield _CLOSE
        yield _CLOSE


def hash_tree(node: Node) -> tuple[bytes, int]:
    """The sha256 digest and size of an in-memory tree's NAR serialization."""
    hasher = hashlib.sha256()
    size = 0
    for piece in dump_tree(node):
        hasher.update(piece)
        size += len(piece)
    return hasher.digest(), size


def write_tree(node: Node, path: str) -> None:
    """Create the in-memory tree `node` at `path` on disk."""
    if isinstance(node, Regular):
        with open(path, "wb") as file:
            file.write(node.contents)
        os.chmod(path, 0o555 if node.executable else 0o444)
    elif isinstance(node, Symlink):
        os.symlink(node.target, path)
    else:
        os.mkdir(path)
        for name, child in node.entries.items():
            write_tree(child, os.path.join(path, name))
        os.chmod(path, 0o555)
