"""Unpacking source archives (tar with gzip, bzip2, xz or zstd; zip), as fetchTarball
and `unpack = true` fetches do: when the archive holds a single top-level directory,
that directory is the result."""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile

from ndx.stdlib.store.fsutil import remove_tree


class UnpackError(Exception):
    """The file is not an archive we can unpack."""


def unpack(archive: str, dest: str) -> None:
    """Unpack `archive` into the new directory `dest`, dropping a single top-level
    directory level."""
    staging = dest + ".unpack"
    os.mkdir(staging)
    try:
        _extract(archive, staging)
        entries = os.listdir(staging)
        if len(entries) == 1 and os.path.isdir(os.path.join(staging, entries[0])) \
                and not os.path.islink(os.path.join(staging, entries[0])):
            os.rename(os.path.join(staging, entries[0]), dest)
        else:
            os.rename(staging, dest)
    finally:
        remove_tree(staging)


def _extract(archive: str, dest: str) -> None:
    with open(archive, "rb") as file:
        magic = file.read(6)
    try:
        if magic.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(archive) as zf:
                _extract_zip(zf, dest)
        elif magic.startswith(b"\x28\xb5\x2f\xfd"):
            import zstandard

            with open(archive, "rb") as raw:
                reader = zstandard.ZstdDecompressor().stream_reader(raw)
                with tarfile.open(fileobj=reader, mode="r|") as tar:
                    tar.extractall(dest, filter="tar")
        else:
            with tarfile.open(archive, mode="r:*") as tar:
                tar.extractall(dest, filter="tar")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise UnpackError(f"cannot unpack '{os.path.basename(archive)}': {exc}") from None


def _extract_zip(zf: zipfile.ZipFile, dest: str) -> None:
    root = os.path.realpath(dest)
    for info in zf.infolist():
        target = os.path.realpath(os.path.join(dest, info.filename))
        if not (target == root or target.startswith(root + os.sep)):
            raise UnpackError(f"zip member '{info.filename}' would land outside the archive")
        mode = info.external_attr >> 16
        if info.is_dir():
            os.makedirs(target, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if mode & 0o170000 == 0o120000:
            os.symlink(zf.read(info).decode(), target)
            continue
        with zf.open(info) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
        if mode & 0o111:
            os.chmod(target, 0o755)
