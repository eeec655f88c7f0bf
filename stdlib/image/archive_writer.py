"""Writing docker-archives and OCI layouts deterministically: sorted members, fixed modes
and mtimes, owner 0:0, canonical JSON, every blob checked against its digest as it is
copied."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tarfile
from collections.abc import Sequence
from typing import IO, Any, BinaryIO, cast

from .errors import ArchiveError
from .image_format import (
    ARCHIVE_MTIME,
    CONTAINERD_NAME,
    COPY_CHUNK,
    OCI_INDEX,
    OCI_LAYOUT_VERSION,
    OCI_MANIFEST,
    REF_NAME,
    blob_path,
    canonical_json,
    digest_hex,
    full_name,
    sha256_digest,
    split_repo_tag,
)
from .image_model import BlobFiles, BlobSource, Image, chain_ids

# --- writing -----------------------------------------------------------------------------

class _DeterministicTar:
    """A tar writer whose every member has mode 0644/0755, owner 0:0 and a fixed mtime.

    The bytes are exactly those of `tarfile` in PAX format (headers are `TarInfo.tobuf`,
    the end is two zero blocks padded to a 10 KiB record), but file data from a real
    file goes straight from file to file (`sendfile`), so writing an archive of large
    cached layers costs little more than the kernel's copy."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._offset = 0
        self._dirs: set[str] = set()
        try:
            self._fd: int | None = out.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            self._fd = None

    def _info(self, name: str, kind: bytes, size: int = 0) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.size = size
        info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
        info.mtime = ARCHIVE_MTIME
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._offset += len(data)

    def _header(self, info: tarfile.TarInfo) -> None:
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def directory(self, name: str) -> None:
        """Add directory `name` (and its parents) once."""
        parts = name.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            path = "/".join(parts[:i])
            if path not in self._dirs:
                self._dirs.add(path)
                self._header(self._info(path + "/", tarfile.DIRTYPE))

    def file(self, name: str, data: bytes | IO[bytes], size: int | None = None) -> None:
        """Add regular file `name` from bytes or from a stream of `size` bytes."""
        if "/" in name:
            self.directory(name.rsplit("/", 1)[0])
        if isinstance(data, bytes):
            self._header(self._info(name, tarfile.REGTYPE, len(data)))
            self._write(data)
            size = len(data)
        else:
            assert size is not None
            self._header(self._info(name, tarfile.REGTYPE, size))
            self._copy(data, size)
        if size % tarfile.BLOCKSIZE:
            self._write(tarfile.NUL * (tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE))

    def _copy(self, source: IO[bytes], size: int) -> None:
        in_fd = _plain_fd(source)
        if in_fd is not None and self._fd is not None:
            self._out.flush()
            start = source.tell()
            done = 0
            try:
                while done < size:
                    sent = os.sendfile(self._fd, in_fd, start + done, size - done)
                    if not sent:
                        raise ArchiveError(f"a blob ended {size - done} bytes early "
                                           "(truncated file?)")
                    done += sent
                self._offset += size
                return
            except OSError:
                if done:
                    raise
                # sendfile refused these files: copy through memory below
        left = size
        while left:
            chunk = source.read(min(left, COPY_CHUNK))
            if not chunk:
                raise ArchiveError(f"a blob ended {left} bytes early (truncated file?)")
            self._write(chunk)
            left -= len(chunk)

    def close(self) -> None:
        self._write(tarfile.NUL * (tarfile.BLOCKSIZE * 2))
        remainder = self._offset % tarfile.RECORDSIZE
        if remainder:
            self._write(tarfile.NUL * (tarfile.RECORDSIZE - remainder))
        self._out.flush()


def _plain_fd(source: Any) -> int | None:
    """The descriptor of `source` when it is a regular file opened for reading (its
    bytes from `source.tell()` on can then be sent by the kernel), else None."""
    if not isinstance(source, io.BufferedReader) or not isinstance(source.raw, io.FileIO):
        return None
    try:
        fd = source.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
    except OSError:
        return None
    return fd


def _docker_entry(image: Image) -> dict[str, Any]:
    return {"Config": blob_path(image.config_digest),
            "RepoTags": list(image.repo_tags),
            "Layers": [blob_path(layer.digest) for layer in image.layers]}


def _repositories(images: Sequence[Image]) -> dict[str, dict[str, str]]:
    """The legacy `repositories` file: each name → tag → the top layer's chain ID."""
    repos: dict[str, dict[str, str]] = {}
    for image in images:
        chains = chain_ids([layer.diff_id for layer in image.layers])
        top = digest_hex(chains[-1]) if chains else digest_hex(image.config_digest)
        for repo_tag in image.repo_tags:
            name, tag = split_repo_tag(repo_tag)
            repos.setdefault(name, {})[tag] = top
    return repos


def _oci_index(images: Sequence[Image]) -> dict[str, Any]:
    manifests = []
    for image in images:
        manifest = image.manifest()
        base = {"mediaType": OCI_MANIFEST, "digest": sha256_digest(manifest),
                "size": len(manifest)}
        if not image.repo_tags:
            manifests.append(base)
        for repo_tag in image.repo_tags:
            manifests.append({**base, "annotations": {
                CONTAINERD_NAME: full_name(repo_tag),
                REF_NAME: split_repo_tag(repo_tag)[1]}})
    return {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}


def _blob_members(images: Sequence[Image], *, oci: bool) -> dict[str, tuple[str, int] | bytes]:
    """Every blob the archive holds: digest → (digest, size) for layers (streamed from a
    source) or the bytes themselves (configs, manifests)."""
    blobs: dict[str, tuple[str, int] | bytes] = {}
    for image in images:
        image.check_diff_ids()
        blobs[image.config_digest] = image.config
        if oci:
            manifest = image.manifest()
            blobs[sha256_digest(manifest)] = manifest
        for layer in image.layers:
            blobs[layer.digest] = (layer.digest, layer.size)
    return blobs


def write_docker_archive(out: IO[bytes], images: Sequence[Image], blobs: BlobSource, *,
                         oci: bool = False) -> None:
    """Write a docker-archive of `images` to the binary stream `out`, taking layer bytes
    from `blobs`. With `oci`, the same tar is also an OCI image layout (`oci-layout`,
    `index.json` and the manifests are added). Deterministic: equal inputs, equal bytes."""
    _write_tar(out, images, blobs, docker=True, oci=oci)


def write_oci_archive(out: IO[bytes], images: Sequence[Image], blobs: BlobSource) -> None:
    """Write an OCI image layout as a tar (`oci-archive:`) to `out`."""
    _write_tar(out, images, blobs, docker=False, oci=True)


def _write_tar(out: IO[bytes], images: Sequence[Image], blobs: BlobSource, *,
               docker: bool, oci: bool) -> None:
    members = _blob_members(images, oci=oci)
    tar = _DeterministicTar(out)
    tar.directory("blobs/sha256")
    for digest in sorted(members):
        content = members[digest]
        if isinstance(content, bytes):
            tar.file(blob_path(digest), content)
        else:
            _, size = content
            with blobs.open_blob(digest) as stream:
                trusted = digest in getattr(blobs, "verified", ())
                source = stream if trusted else cast(IO[bytes], _Exact(stream, size, digest))
                tar.file(blob_path(digest), source, size)
    if oci:
        tar.file("index.json", canonical_json(_oci_index(images)))
    if docker:
        tar.file("manifest.json", canonical_json([_docker_entry(i) for i in images]))
    if oci:
        tar.file("oci-layout", canonical_json(OCI_LAYOUT_VERSION))
    if docker:
        tar.file("repositories", canonical_json(_repositories(images)))
    tar.close()


def _link_verified(blobs: BlobSource, digest: str, target: str) -> bool:
    """Hard-link a verified blob file to `target` instead of copying it (same file
    system only); whether that was done."""
    if not isinstance(blobs, BlobFiles) or digest not in blobs.verified:
        return False
    try:
        if os.path.lexists(target):
            os.unlink(target)
        os.link(blobs.files[digest], target)
    except (OSError, KeyError):
        return False
    return True


def write_oci_layout(directory: str, images: Sequence[Image], blobs: BlobSource, *,
                     link_blobs: bool = False) -> None:
    """Write (or add to) an OCI image layout directory: blobs, `index.json`, `oci-layout`.
    Blobs already present are kept; `index.json` is replaced by one listing `images`.
    With `link_blobs`, verified blob files are hard-linked rather than copied (for a
    layout made from a cache of immutable files on the same file system)."""
    os.makedirs(os.path.join(directory, "blobs", "sha256"), exist_ok=True)
    for digest, content in sorted(_blob_members(images, oci=True).items()):
        target = os.path.join(directory, blob_path(digest))
        if os.path.exists(target):
            continue
        partial = target + ".partial"
        if link_blobs and _link_verified(blobs, digest, partial):
            os.replace(partial, target)
            continue
        with open(partial, "wb") as f:
            if isinstance(content, bytes):
                f.write(content)
            else:
                with blobs.open_blob(digest) as stream:
                    shutil.copyfileobj(_Exact(stream, content[1], digest), f, COPY_CHUNK)
        os.replace(partial, target)
    for name, value in (("index.json", _oci_index(images)), ("oci-layout", OCI_LAYOUT_VERSION)):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(canonical_json(value))


class _Exact(io.RawIOBase):
    """Pass a blob through while checking that it has the promised size and digest, so a
    corrupt source can never produce an archive that lies about its content."""

    def __init__(self, stream: BinaryIO, size: int, digest: str) -> None:
        self._stream, self._left, self._digest = stream, size, digest
        self._size = size
        self._hash = hashlib.sha256()
        self._checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self._left]
        if not len(view):
            self._finish()
            return 0
        # Fill the whole buffer (tarfile takes a short read for the end of the data).
        count = 0
        while count < len(view):
            got: int = self._stream.readinto(view[count:])  # type: ignore[attr-defined]
            if not got:
                raise ArchiveError(f"blob {self._digest} is shorter than its {self._size} "
                                   "bytes")
            count += got
        self._hash.update(view[:count])
        self._left -= count
        if not self._left:
            self._finish()
        return count

    def _finish(self) -> None:
        if not self._checked:
            self._checked = True
            if "sha256:" + self._hash.hexdigest() != self._digest:
                raise ArchiveError(f"blob {self._digest} does not match its digest")
