"""Layer tarballs: decompression with a bound, validation, and safe extraction.

A layer comes from someone else's registry, so it is treated as hostile:

* decompression stops once the output exceeds a bound (a multiple of the compressed
  size, with a floor and an absolute cap), so a gzip or zstd bomb cannot fill the disk;
* every entry's path must stay inside the layer root: no absolute names, no `..`, no
  hard link to a path outside, no relative symlink climbing above the root, and no
  entry written through a symlink the same layer created;
* extraction (`extract_layer`) resolves every parent directory inside the destination
  as if it were `/`, and never follows a symlink for the entry it creates.

Raising `UnsafeLayerError` leaves nothing behind: callers write to temporary files.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import posixpath
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from ndx.stdlib.image.rootfs import remove_path, resolve_in_root

from .errors import UnsafeLayerError

_READ = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True)
class LayerLimits:
    """How far a layer may expand: `max_ratio` times its compressed size, but never less
    than `floor` nor more than `cap` bytes. NDX_MAX_LAYER_RATIO overrides the ratio."""

    max_ratio: float = 250.0
    floor: int = 64 << 20
    cap: int = 64 << 30

    def bound(self, compressed_size: int) -> int:
        ratio = float(os.environ.get("NDX_MAX_LAYER_RATIO") or self.max_ratio)
        return int(min(self.cap, max(self.floor, ratio * compressed_size)))


DEFAULT_LIMITS = LayerLimits()


def sniff_compression(path: Path) -> str:
    """"gzip", "zstd" or "none", from the first bytes (media types are sometimes wrong)."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return "none"


def open_decompressed(path: Path, compression: str) -> BinaryIO:
    raw = open(path, "rb")
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(
            raw, read_across_frames=True, closefd=True)
    return raw


class _Tee:
    """Reads from a decompressed stream, hashing, counting (against the bound) and copying
    every byte to `out`; tarfile reads through it."""

    def __init__(self, src: BinaryIO, out: BinaryIO | None, bound: int, what: str) -> None:
        self.src, self.out, self.bound, self.what = src, out, bound, what
        self.hash = hashlib.sha256()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        try:
            data = self.src.read(size if size >= 0 else _READ)
        except (OSError, EOFError, zstandard.ZstdError) as exc:
            raise UnsafeLayerError(f"{self.what}: cannot decompress: {exc}") from None
        self.count += len(data)
        if self.count > self.bound:
            raise UnsafeLayerError(
                f"{self.what}: expands beyond {self.bound} bytes; refusing it as a "
                "decompression bomb",
                hint="if the layer is genuine, raise the bound with NDX_MAX_LAYER_RATIO")
        self.hash.update(data)
        if self.out is not None:
            self.out.write(data)
        return data


def _clean_name(name: str, what: str, kind: str = "entry") -> str:
    """The normalized relative path of a tar name; refuses absolute paths and `..`."""
    if "\x00" in name:
        raise UnsafeLayerError(f"{what}: {kind} {name!r} contains a NUL byte")
    if name.startswith("/"):
        raise UnsafeLayerError(f"{what}: {kind} {name!r} is an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeLayerError(f"{what}: {kind} {name!r} climbs out of the layer root with '..'")
    return "/".join(parts)


class LayerChecker:
    """Checks the entries of one layer, in order."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.symlinks: set[str] = set()

    def check(self, member: tarfile.TarInfo) -> str:
        """The entry's clean path, or `UnsafeLayerError`."""
        name = _clean_name(member.name, self.what)
        parent = posixpath.dirname(name)
        while parent:
            if parent in self.symlinks:
                raise UnsafeLayerError(f"{self.what}: entry {member.name!r} would be written "
                                       f"through the symlink {parent!r} of the same layer")
            parent = posixpath.dirname(parent)
        if member.islnk():
            _clean_name(member.linkname, self.what, f"hard link target of {member.name!r}:")
        elif member.issym():
            target = member.linkname
            if "\x00" in target:
                raise UnsafeLayerError(f"{self.what}: symlink {member.name!r} has a NUL byte")
            if not target.startswith("/"):
                joined = posixpath.join(posixpath.dirname(name), target)
                depth = 0
                for part in joined.split("/"):
                    if part == "..":
                        depth -= 1
                    elif part not in ("", "."):
                        depth += 1
                    if depth < 0:
                        raise UnsafeLayerError(
                            f"{self.what}: symlink {member.name!r} -> {target!r} points "
                            "outside the layer root")
            self.symlinks.add(name)
        if name and not member.issym():
            self.symlinks.discard(name)
        return name


def decompress_layer(src: Path, dest: Path | None, *, compressed_size: int,
                     compression: str | None = None, what: str,
                     limits: LayerLimits = DEFAULT_LIMITS) -> str:
    """Decompress the layer blob `src` into `dest` (None: only check it), validating every
    entry; returns the diff ID (`sha256:` of the uncompressed tar). On any error `dest`
    is removed."""
    compression = compression or sniff_compression(src)
    bound = limits.bound(compressed_size)
    out = open(dest, "wb") if dest is not None else None
    try:
        with open_decompressed(src, compression) as stream:
            tee = _Tee(stream, out, bound, what)
            checker = LayerChecker(what)
            try:
                with tarfile.open(fileobj=tee, mode="r|") as tar:  # type: ignore[call-overload]
                    for member in tar:
                        checker.check(member)
            except tarfile.TarError as exc:
                raise UnsafeLayerError(f"{what}: not a valid tar archive ({exc})") from None
            while tee.read(_READ):
                pass
        if out is not None:
            out.close()
        return "sha256:" + tee.hash.hexdigest()
    except BaseException:
        if out is not None:
            out.close()
            dest.unlink(missing_ok=True)  # type: ignore[union-attr]
        raise


# -- extraction -------------------------------------------------------------------------

_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"


def extract_layer(layer: Path, dest: Path, *, compression: str | None = None,
                  limits: LayerLimits = DEFAULT_LIMITS, what: str | None = None) -> None:
    """Apply a layer tarball onto the directory `dest` (OCI whiteouts included), writing
    nothing outside it. Ownership is kept only when running as root."""
    what = what or f"layer {layer.name}"
    root = os.path.realpath(dest)
    compression = compression or sniff_compression(layer)
    as_root = os.geteuid() == 0
    checker = LayerChecker(what)
    created: set[str] = set()
    dirs: list[tuple[str, tarfile.TarInfo]] = []
    with open_decompressed(layer, compression) as stream:
        tee = _Tee(stream, None, limits.bound(layer.stat().st_size), what)
        with tarfile.open(fileobj=tee, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                name = checker.check(member)
                if not name:
                    continue
                parent_rel, base = posixpath.split(name)
                parent = resolve_in_root(root, parent_rel, follow_last=True,
                                         error=UnsafeLayerError)
                os.makedirs(parent, exist_ok=True)
                if base == _OPAQUE:
                    for entry in os.listdir(parent):
                        full = os.path.join(parent, entry)
                        if full not in created:
                            remove_path(full)
                    continue
                if base.startswith(_WHITEOUT):
                    remove_path(os.path.join(parent, base[len(_WHITEOUT):]))
                    continue
                path = os.path.join(parent, base)
                created.add(path)
                if member.isdir():
                    if os.path.lexists(path) and not os.path.isdir(path):
                        os.unlink(path)
                    os.makedirs(path, exist_ok=True)
                    dirs.append((path, member))
                    continue
                if os.path.lexists(path):
                    remove_path(path)
                if member.isreg():
                    src = tar.extractfile(member)
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                                 0o600)
                    with os.fdopen(fd, "wb") as out:
                        while chunk := src.read(_READ):
                            out.write(chunk)
                elif member.issym():
                    os.symlink(member.linkname, path)
                elif member.islnk():
                    target_rel = _clean_name(member.linkname, what)
                    target = resolve_in_root(root, target_rel, follow_last=False,
                                             error=UnsafeLayerError)
                    if not os.path.isfile(target) or os.path.islink(target):
                        raise UnsafeLayerError(f"{what}: hard link {member.name!r} -> "
                                               f"{member.linkname!r} has no regular file to "
                                               "link to inside the layer")
                    os.link(target, path, follow_symlinks=False)
                    continue
                elif member.ischr() or member.isblk() or member.isfifo():
                    kind = (stat.S_IFCHR if member.ischr() else
                            stat.S_IFBLK if member.isblk() else stat.S_IFIFO)
                    try:
                        os.mknod(path, kind | (member.mode & 0o7777),
                                 os.makedev(member.devmajor, member.devminor))
                    except PermissionError:
                        continue
                else:
                    continue
                _apply_metadata(path, member, as_root)
    for path, member in reversed(dirs):
        _apply_metadata(path, member, as_root)


def _apply_metadata(path: str, member: tarfile.TarInfo, as_root: bool) -> None:
    if as_root:
        os.lchown(path, member.uid, member.gid)
    if not member.issym():
        os.chmod(path, member.mode & 0o7777)
    os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
