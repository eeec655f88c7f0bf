"""Writing one layer: a deterministic tar of files, streamed through hashing and compression.

`write_layer(out, entries)` is the one function every image path uses (buildImage now,
layered and streamed images later). It takes entries already in layer order, writes the
compressed blob to `out` in a single pass over the file contents, and returns the
`Layer` (diff ID = sha256 of the uncompressed tar, digest and size of the blob).

Determinism: entries carry their own mode/uid/gid; every mtime is `LAYER_MTIME`; user
and group names are empty; hard links are written as separate files. Compression is
chunked at fixed offsets of the uncompressed stream, so the output does not depend on how
many threads compress it:

* gzip — one gzip member (no timestamp, OS "unknown"), built like pigz: each 1 MiB chunk is
  deflated on a worker thread primed with the previous chunk's last 32 KiB, ended with a
  sync flush; the CRC and size trailer are computed as the data streams by.
* zstd — the zstandard library's own worker threads (always ≥ 1 worker, whose output is
  independent of the worker count).

`LayerContents` assembles entries from several sources (store paths, a staged root
tree, links, whiteouts) into that order.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import tarfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any, NamedTuple

from .errors import ImageError
from .image_format import LAYER_MEDIA_TYPES
from .image_model import Layer

#: mtime of every entry of a layer (1 s after the epoch, as in the store).
LAYER_MTIME = 1
#: Uncompressed bytes per compression job; fixed, so the output is thread-count independent.
CHUNK = 1 << 20
#: Deflate's window: each gzip chunk is primed with this much of the previous one.
WINDOW = 32 * 1024
#: Default compression levels: fast, because layers are compressed for transport and
#: rebuilt often (zstd -1 still beats gzip -6 on size).
DEFAULT_LEVELS = {"gzip": 1, "zstd": 1}

_READ = 1 << 20
_NUL = bytes(512)


class Entry(NamedTuple):
    """One member of a layer.

    `path` is relative to the image root ("ndx/store/…-hello/bin/hello"); `kind` is
    "dir", "file", "symlink" or "hardlink"; `source` is the host file holding a file's
    bytes; `target` a link's target (for a hard link, another path in the layer)."""

    path: str
    kind: str
    mode: int
    uid: int = 0
    gid: int = 0
    source: str | None = None
    target: str | None = None


def path_key(path: str) -> tuple[str, ...]:
    """Sort key giving each directory's entries in name order, right after it."""
    return tuple(path.split("/"))


class LayerContents:
    """The entries of one layer, gathered from several sources; later additions of the same
    path replace earlier ones, and missing parent directories are added (0755, root)."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: str) -> bool:
        return path.strip("/") in self._entries

    def get(self, path: str) -> Entry | None:
        """The entry at `path`, if any."""
        return self._entries.get(path.strip("/"))

    def add(self, entry: Entry) -> None:
        """Add (or replace) one entry."""
        path = entry.path
        if path.startswith("/") or path.endswith("/"):
            path = path.strip("/")
            entry = entry._replace(path=path)
        if not path or path == ".." or path.startswith("../") or "/../" in path \
                or path.endswith("/.."):
            raise ImageError(f"invalid path in a layer: {entry.path!r}")
        self._entries[path] = entry

    def add_dir(self, path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> None:
        """Add a directory."""
        self.add(Entry(path, "dir", mode, uid, gid))

    def add_symlink(self, path: str, target: str, uid: int = 0, gid: int = 0) -> None:
        """Add a symbolic link."""
        self.add(Entry(path, "symlink", 0o777, uid, gid, target=target))

    def add_whiteout(self, path: str) -> None:
        """Hide `path` of a lower layer (an empty `.wh.<name>` file, as Docker and OCI do)."""
        parent, _, name = path.strip("/").rpartition("/")
        self.add(Entry(f"{parent}/.wh.{name}" if parent else f".wh.{name}", "file", 0o644,
                       source=os.devnull))

    def add_tree(self, real: str, at: str, *, owner: tuple[int, int] | None = (0, 0),
                 skip: Iterable[str] = ()) -> None:
        """Add the file tree at host path `real` under layer path `at`.

        `owner` forces every entry's uid/gid (the store, unprivileged scripts); None keeps
        what the file system says (a root tree after runAsRoot). `skip` lists layer paths
        left out with everything below them (mount points)."""
        skipped = {p.strip("/") for p in skip}
        at = at.strip("/")
        try:
            st = os.lstat(real)
        except FileNotFoundError:
            raise ImageError(f"{real}: no such file or directory") from None
        if at:
            self.add(_entry(at, real, st, owner))
        if stat.S_ISDIR(st.st_mode):
            self._walk(real, at, owner, skipped)

    def _walk(self, real: str, at: str, owner: tuple[int, int] | None,
              skipped: set[str]) -> None:
        try:
            with os.scandir(real) as it:
                children = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            raise ImageError(f"cannot read {real}: {exc.strerror}") from None
        for child in children:
            path = f"{at}/{child.name}" if at else child.name
            if path in skipped:
                continue
            st = child.stat(follow_symlinks=False)
            self.add(_entry(path, child.path, st, owner))
            if stat.S_ISDIR(st.st_mode):
                self._walk(child.path, path, owner, skipped)

    def entries(self) -> list[Entry]:
        """All entries in layer order, with any missing parent directories."""
        for path in list(self._entries):
            parent = path.rpartition("/")[0]
            while parent and parent not in self._entries:
                self._entries[parent] = Entry(parent, "dir", 0o755)
                parent = parent.rpartition("/")[0]
        return [self._entries[p] for p in sorted(self._entries, key=path_key)]


def _entry(path: str, real: str, st: os.stat_result, owner: tuple[int, int] | None) -> Entry:
    uid, gid = owner if owner is not None else (st.st_uid, st.st_gid)
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISDIR(st.st_mode):
        return Entry(path, "dir", mode, uid, gid)
    if stat.S_ISREG(st.st_mode):
        return Entry(path, "file", mode, uid, gid, source=real)
    if stat.S_ISLNK(st.st_mode):
        return Entry(path, "symlink", 0o777, uid, gid, target=os.readlink(real))
    kind = ("a socket" if stat.S_ISSOCK(st.st_mode) else "a fifo" if stat.S_ISFIFO(st.st_mode)
            else "a device node")
    raise ImageError(f"{real}: {kind} cannot go into an image layer")


# --- the tar stream ------------------------------------------------------------------------

_TYPES = {"dir": b"5", "file": b"0", "symlink": b"2", "hardlink": b"1"}
_MTIME_FIELD = b"%011o\0" % LAYER_MTIME


def _header(entry: Entry, size: int) -> bytes:
    """The tar header of `entry`: a plain ustar block when everything fits (nearly always,
    and much faster than `tarfile`), otherwise what `tarfile` writes in PAX format."""
    if entry.kind not in _TYPES:
        raise ImageError(f"unknown layer entry kind {entry.kind!r}")
    name = entry.path + ("/" if entry.kind == "dir" else "")
    link = entry.target or "" if entry.kind in ("symlink", "hardlink") else ""
    fast = _ustar(name, link, entry, size)
    if fast is not None:
        return fast
    info = tarfile.TarInfo(name)
    info.mode = entry.mode
    info.uid, info.gid = entry.uid, entry.gid
    info.uname = info.gname = ""
    info.mtime = LAYER_MTIME
    info.type = _TYPES[entry.kind]
    if entry.kind == "file":
        info.size = size
    info.linkname = link
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _ustar(name: str, link: str, entry: Entry, size: int) -> bytes | None:
    try:
        raw_name = name.encode("ascii")
        raw_link = link.encode("ascii")
    except UnicodeEncodeError:
        return None
    if len(raw_link) > 100 or entry.uid >= 0o7777777 or entry.gid >= 0o7777777 \
            or size >= 0o77777777777 or entry.mode > 0o7777:
        return None
    prefix = b""
    if len(raw_name) > 100:
        # Split at a slash into prefix (≤ 155 bytes) and name (≤ 100 bytes).
        cut = raw_name.find(b"/", max(1, len(raw_name) - 101), 156)
        if cut < 0:
            return None
        prefix, raw_name = raw_name[:cut], raw_name[cut + 1:]
        if not raw_name:
            return None
    header = b"".join((
        raw_name.ljust(100, b"\0"),
        b"%07o\0" % entry.mode, b"%07o\0" % entry.uid, b"%07o\0" % entry.gid,
        b"%011o\0" % (size if entry.kind == "file" else 0), _MTIME_FIELD,
        b"        ", _TYPES[entry.kind], raw_link.ljust(100, b"\0"),
        b"ustar\x0000", bytes(64), b"0000000\0" * 2, prefix.ljust(155, b"\0"), bytes(12)))
    checksum = sum(header)
    return header[:148] + b"%06o\0 " % checksum + header[156:]


def tar_stream(entries: Iterable[Entry]) -> Iterator[bytes | memoryview]:
    """The uncompressed layer tar as a sequence of byte pieces (headers, file data, padding,
    the two end blocks). File sizes are taken when each file is read; a file that changes
    while being read is an error, never a silently wrong layer."""
    for entry in entries:
        if entry.kind != "file":
            yield _header(entry, 0)
            continue
        assert entry.source is not None
        try:
            fd = os.open(entry.source, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise ImageError(f"cannot read {entry.source}: {exc.strerror}") from None
        try:
            size = os.fstat(fd).st_size
            yield _header(entry, size)
            left = size
            while left:
                # Exact-size reads: a 1 MiB buffer per small file costs more than the read.
                piece = os.read(fd, min(left, _READ))
                if not piece:
                    raise ImageError(f"{entry.source} shrank while it was being read")
                left -= len(piece)
                yield piece
            if size < _READ and os.read(fd, 1):
                raise ImageError(f"{entry.source} grew while it was being read")
        except OSError as exc:
            raise ImageError(f"cannot read {entry.source}: {exc.strerror}") from None
        finally:
            os.close(fd)
        if size % 512:
            yield _NUL[: 512 - size % 512]
    yield _NUL * 2


def _chunks(pieces: Iterable[bytes | memoryview]) -> Iterator[bytes]:
    """Re-cut a stream of pieces into CHUNK-sized chunks (the last one shorter)."""
    buf = bytearray()
    for piece in pieces:
        if not buf and len(piece) == CHUNK:
            yield bytes(piece)
            continue
        buf += piece
        while len(buf) >= CHUNK:
            yield bytes(buf[:CHUNK])
            del buf[:CHUNK]
    if buf:
        yield bytes(buf)


# --- compression ---------------------------------------------------------------------------

def _deflate_chunk(chunk: bytes, primer: bytes, level: int) -> bytes:
    if primer:
        comp = zlib.compressobj(level, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, primer)
    else:
        comp = zlib.compressobj(level, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY)
    return comp.compress(chunk) + comp.flush(zlib.Z_SYNC_FLUSH)


#: gzip member header: magic, deflate, no flags, mtime 0, no extra flags, OS unknown.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
#: The final, empty deflate block that ends a stream of sync-flushed chunks.
_DEFLATE_END = b"\x03\x00"


class _Sink:
    """Where compressed bytes go: the output stream, hashed and counted on the way."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        if data:
            self.out.write(data)
            self.hash.update(data)
            self.size += len(data)


def write_layer(out: IO[bytes], entries: Iterable[Entry], *, compression: str | None = "gzip",
                level: int | None = None, threads: int | None = None) -> Layer:
    """Write the layer holding `entries` (in layer order) to `out`, compressed with
    "gzip", "zstd" or None, and return its `Layer` (diff ID, blob digest, size, media type).

    One pass: files are read once; hashing of the tar and compression run on worker
    threads (zlib, zstd and hashlib release the GIL), `threads` of them for gzip
    (default: the CPU count)."""
    if compression not in LAYER_MEDIA_TYPES:
        raise ImageError(f"unknown layer compression {compression!r} "
                         "(use \"gzip\", \"zstd\" or none)")
    level = DEFAULT_LEVELS.get(compression or "", 0) if level is None else level
    workers = max(1, threads if threads is not None else (os.cpu_count() or 1))
    sink = _Sink(out)
    diff = hashlib.sha256()
    chunks = _chunks(tar_stream(entries))
    with ThreadPoolExecutor(1, thread_name_prefix="ndx-hash") as hasher:
        if compression == "gzip":
            _gzip(chunks, sink, diff, hasher, level, workers)
        elif compression == "zstd":
            _zstd(chunks, sink, diff, level, workers)
        else:
            for chunk in chunks:  # uncompressed: the blob is the tar, one hash serves both
                out.write(chunk)
                diff.update(chunk)
                sink.size += len(chunk)
            sink.hash = diff
    return Layer("sha256:" + diff.hexdigest(), "sha256:" + sink.hash.hexdigest(), sink.size,
                 LAYER_MEDIA_TYPES[compression])


def _gzip(chunks: Iterable[bytes], sink: _Sink, diff: Any, hasher: ThreadPoolExecutor,
          level: int, workers: int) -> None:
    crc = 0
    length = 0

    def account(chunk: bytes) -> None:
        nonlocal crc
        diff.update(chunk)
        crc = zlib.crc32(chunk, crc)

    sink.write(_GZIP_HEADER)
    primer = b""
    pending: deque[tuple[Future[Any], Future[bytes]]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="ndx-deflate") as pool:
        for chunk in chunks:
            length += len(chunk)
            pending.append((hasher.submit(account, chunk),
                            pool.submit(_deflate_chunk, chunk, primer, level)))
            primer = chunk[-WINDOW:]
            while len(pending) > 2 * workers:
                hashed, compressed = pending.popleft()
                hashed.result()
                sink.write(compressed.result())
        for hashed, compressed in pending:
            hashed.result()
            sink.write(compressed.result())
    sink.write(_DEFLATE_END + struct.pack("<II", crc & 0xFFFFFFFF, length & 0xFFFFFFFF))


def _zstd(chunks: Iterable[bytes], sink: _Sink, diff: Any, level: int, workers: int) -> None:
    import zstandard

    params = zstandard.ZstdCompressionParameters.from_level(
        level, threads=workers, write_checksum=True, write_content_size=False)
    comp = zstandard.ZstdCompressor(compression_params=params).compressobj()
    # zstd's own workers compress; this thread builds the tar and hashes it (hashlib
    # releases the GIL, so hashing overlaps the workers).
    for chunk in chunks:
        sink.write(comp.compress(chunk))
        diff.update(chunk)
    sink.write(comp.flush())
