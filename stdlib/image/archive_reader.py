"""Reading a docker-archive or an OCI layout (a directory or a tar of one) without
unpacking it: `ImageArchive` indexes the members and opens blobs in place."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

from .errors import ArchiveError
from .image_format import (
    CONTAINERD_NAME,
    COPY_CHUNK,
    DOCKER_MANIFEST_LIST,
    LAYER_MEDIA_TYPES,
    OCI_INDEX,
    REF_NAME,
    blob_path,
    decompressed,
    full_name,
    normalize_repo_tag,
    sniff_compression,
)
from .image_model import Image, Layer

# --- reading -----------------------------------------------------------------------------

class _Slice(io.RawIOBase):
    """A read-only window [offset, offset+size) of an open file (a tar member's data)."""

    def __init__(self, path: str, offset: int, size: int) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._file.seek(offset)
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self._left]
        if not len(view):
            return 0
        count = self._file.readinto(view)
        if not count:
            raise ArchiveError("the archive ends inside a blob (truncated file?)")
        self._left -= count
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


class ImageArchive:
    """An image archive opened for reading: a docker-archive or OCI layout, as a tar file
    (optionally gzip- or zstd-compressed as a whole, as Nix's buildImage writes them) or as
    an unpacked directory.

        with ImageArchive(path) as archive:
            for image in archive.images():
                with archive.open_layer(image.layers[0]) as tar_stream: …

    `images()` lists every image with its config and layers; `open_blob` reads a blob's
    stored bytes, `open_layer` a layer's uncompressed tar. Blobs whose digest the archive
    does not state (docker-archive layers under legacy names) are hashed once on opening.
    """

    def __init__(self, path: str, *, platform: str | None = None) -> None:
        self.path = path
        self._platform = platform
        self._tmp: str | None = None
        self._members: dict[str, tuple[int, int]] = {}   # name -> (offset, size) in a tar
        self._dir: str | None = None
        self._blob_names: dict[str, str] = {}           # digest -> member name
        if os.path.isdir(path):
            self._dir = path
        elif os.path.isfile(path):
            self._index_tar(path)
        else:
            raise ArchiveError(f"{path}: no such image archive")
        try:
            self._images = self._read_images()
        except (ValueError, KeyError, TypeError) as exc:
            self.close()
            raise ArchiveError(f"{path}: malformed image archive: {exc}") from None

    # context manager and clean-up
    def __enter__(self) -> ImageArchive:  # noqa: PYI034 - final class
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary copy made for a compressed archive."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # the public view
    @property
    def format(self) -> str:
        """"docker-archive" or "oci" (what `images()` was read from)."""
        return self._format

    def images(self) -> list[Image]:
        """Every image in the archive, in the order the archive lists them."""
        return list(self._images)

    def image(self, repo_tag: str | None = None) -> Image:
        """The image named `repo_tag`, or the only image when no name is given."""
        if repo_tag is None:
            if len(self._images) != 1:
                names = ", ".join(t for i in self._images for t in i.repo_tags) or "unnamed"
                raise ArchiveError(f"{self.path} holds {len(self._images)} images ({names}); "
                                   "say which one")
            return self._images[0]
        wanted = {repo_tag, normalize_repo_tag(repo_tag), full_name(repo_tag)}
        for image in self._images:
            tags = set(image.repo_tags) | {full_name(t) for t in image.repo_tags}
            if tags & wanted:
                return image
        names = ", ".join(t for i in self._images for t in i.repo_tags) or "no names"
        raise ArchiveError(f"{self.path} has no image {repo_tag!r} (it has {names})")

    def open_blob(self, digest: str) -> BinaryIO:
        """A reader of the stored bytes of blob `digest`."""
        name = self._blob_names.get(digest) or blob_path(digest)
        return self._open_member(name)

    def open_layer(self, layer: Layer) -> BinaryIO:
        """A reader of the uncompressed tar of `layer`."""
        return decompressed(self.open_blob(layer.digest), layer.compression)

    # reading members, whatever the container
    def _index_tar(self, path: str) -> None:
        with open(path, "rb") as f:
            compression = sniff_compression(f.read(4))
        if compression is not None:
            # A compressed archive cannot be read at random: unpack the outer layer once.
            self._tmp = tempfile.mkdtemp(prefix="ndx-archive-")
            plain = os.path.join(self._tmp, "archive.tar")
            with open(path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(decompressed(src, compression), dst, COPY_CHUNK)
            path = plain
        self._tar_path = path
        links: dict[str, str] = {}
        try:
            with tarfile.open(path, "r:") as tar:
                for member in tar:
                    name = _clean(member.name)
                    if member.isfile():
                        self._members[name] = (member.offset_data, member.size)
                    elif member.issym():
                        links[name] = _clean(os.path.join(os.path.dirname(name),
                                                          member.linkname))
                    elif member.islnk():
                        links[name] = _clean(member.linkname)
        except tarfile.TarError as exc:
            raise ArchiveError(f"{self.path}: not an image archive: {exc}") from None
        for name, target in links.items():
            for _ in range(16):  # follow chains of links, but never loop
                if target in self._members:
                    self._members[name] = self._members[target]
                    break
                if target not in links:
                    break
                target = links[target]

    def _has(self, name: str) -> bool:
        if self._dir is not None:
            return os.path.isfile(os.path.join(self._dir, name))
        return name in self._members

    def _open_member(self, name: str) -> BinaryIO:
        if self._dir is not None:
            try:
                return open(os.path.join(self._dir, name), "rb")
            except FileNotFoundError:
                raise ArchiveError(f"{self.path}: missing {name}") from None
        if name not in self._members:
            raise ArchiveError(f"{self.path}: missing {name}")
        offset, size = self._members[name]
        return io.BufferedReader(_Slice(self._tar_path, offset, size), COPY_CHUNK)

    def _read_json(self, name: str) -> Any:
        with self._open_member(name) as f:
            try:
                return json.loads(f.read())
            except ValueError as exc:
                raise ArchiveError(f"{self.path}: {name} is not valid JSON: {exc}") from None

    def _read_bytes(self, name: str) -> bytes:
        with self._open_member(name) as f:
            return f.read()

    # the two formats
    def _read_images(self) -> list[Image]:
        if self._has("manifest.json"):
            self._format = "docker-archive"
            return self._read_docker()
        if self._has("index.json"):
            self._format = "oci"
            return self._read_oci()
        raise ArchiveError(f"{self.path}: neither a docker-archive (no manifest.json) nor an "
                           "OCI layout (no index.json)")

    def _read_docker(self) -> list[Image]:
        images = []
        for entry in self._read_json("manifest.json"):
            config_name = _clean(entry["Config"])
            config = self._read_bytes(config_name)
            diff_ids = (json.loads(config).get("rootfs") or {}).get("diff_ids") or []
            names = [_clean(n) for n in entry.get("Layers") or []]
            if len(names) != len(diff_ids):
                raise ArchiveError(f"{self.path}: manifest.json lists {len(names)} layers but "
                                   f"the config has {len(diff_ids)} diff IDs")
            sources = entry.get("LayerSources") or {}
            layers = []
            for name, diff_id in zip(names, diff_ids, strict=True):
                layers.append(self._docker_layer(name, diff_id, sources.get(diff_id)))
            images.append(Image(config, tuple(layers), tuple(entry.get("RepoTags") or ())))
        return images

    def _docker_layer(self, name: str, diff_id: str, source: Mapping[str, Any] | None) -> Layer:
        """Describe a docker-archive layer: the digest is the file's name when it is a
        `blobs/sha256/<hex>` path, otherwise it is computed."""
        with self._open_member(name) as f:
            head = f.peek(4)[:4] if hasattr(f, "peek") else b""
            compression = sniff_compression(head)
            match = re.fullmatch(r"blobs/sha256/([0-9a-f]{64})", name)
            if match:
                digest = "sha256:" + match.group(1)
                size = self._member_size(name)
            elif compression is None:
                digest, size = diff_id, self._member_size(name)
            else:
                hasher, size = hashlib.sha256(), 0
                while chunk := f.read(COPY_CHUNK):
                    hasher.update(chunk)
                    size += len(chunk)
                digest = "sha256:" + hasher.hexdigest()
        self._blob_names[digest] = name
        media_type = (source or {}).get("mediaType") or LAYER_MEDIA_TYPES[compression]
        return Layer(diff_id, digest, size, media_type)

    def _member_size(self, name: str) -> int:
        if self._dir is not None:
            return os.path.getsize(os.path.join(self._dir, name))
        return self._members[name][1]

    def _read_oci(self) -> list[Image]:
        index = self._read_json("index.json")
        images = []
        for desc in index.get("manifests") or []:
            for manifest_desc in self._manifests_of(desc):
                manifest = json.loads(self._read_bytes(blob_path(manifest_desc["digest"])))
                config = self._read_bytes(blob_path(manifest["config"]["digest"]))
                diff_ids = (json.loads(config).get("rootfs") or {}).get("diff_ids") or []
                layer_descs = manifest.get("layers") or []
                if len(layer_descs) != len(diff_ids):
                    raise ArchiveError(f"{self.path}: a manifest lists {len(layer_descs)} "
                                       f"layers but its config has {len(diff_ids)} diff IDs")
                layers = tuple(Layer(diff_id, d["digest"], int(d["size"]), d["mediaType"])
                               for d, diff_id in zip(layer_descs, diff_ids, strict=True))
                annotations = desc.get("annotations") or {}
                tags = _names_from_annotations(annotations)
                images.append(Image(config, layers, tags,
                                    dict(manifest.get("annotations") or {})))
        if not images:
            raise ArchiveError(f"{self.path}: index.json lists no image")
        return images

    def _manifests_of(self, desc: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """The image manifests a descriptor leads to: itself, or the entries of a nested
        index that match the wanted platform (all of them when none is asked)."""
        if desc.get("mediaType") in (OCI_INDEX, DOCKER_MANIFEST_LIST):
            nested = json.loads(self._read_bytes(blob_path(desc["digest"])))
            for entry in nested.get("manifests") or []:
                platform = entry.get("platform") or {}
                name = "/".join(p for p in (platform.get("os"), platform.get("architecture"),
                                            platform.get("variant")) if p)
                if self._platform is None or name == self._platform \
                        or name.startswith(self._platform + "/"):
                    yield from self._manifests_of(entry)
        else:
            yield desc


def _names_from_annotations(annotations: Mapping[str, str]) -> tuple[str, ...]:
    if CONTAINERD_NAME in annotations:
        return (annotations[CONTAINERD_NAME],)
    ref = annotations.get(REF_NAME)
    if ref and (":" in ref or "/" in ref):
        return (ref,)
    return ()


def _clean(name: str) -> str:
    """A member name without a leading "./" or "/", normalised."""
    return os.path.normpath(name.lstrip("/")).removeprefix("./")



def iter_layer_members(stream: BinaryIO) -> Iterable[tarfile.TarInfo]:
    """The members of an uncompressed layer tar read as a stream (for listings)."""
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        yield from tar
