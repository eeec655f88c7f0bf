"""Reading and writing image archives: docker-archive and the OCI image layout.

Two formats carry the same thing — an image config (JSON), an ordered list of layer blobs,
and names — in different envelopes:

* **docker-archive** (`docker save` / `docker load`, `skopeo … docker-archive:`): a tar with
  `manifest.json` (`[{"Config": path, "RepoTags": ["name:tag"], "Layers": [path, …]}]`),
  a legacy `repositories` file (`{"name": {"tag": id}}`) and the files those paths name.
* **OCI image layout** (a directory, or a tar of one: `oci-archive`): `oci-layout`,
  `index.json` pointing at manifests, and every blob at `blobs/sha256/<hex>`.

Vocabulary, used the same way throughout ndx:

* a **diff ID** is the sha256 of a layer's *uncompressed* tar; the config lists them in
  `rootfs.diff_ids`, and engines check them when they unpack a layer;
* a layer's **digest** is the sha256 of the blob as *stored or sent* (compressed, if it is);
  manifests and registries address layers by it;
* the **image ID** is the digest of the config bytes, which is why the config is kept as the
  exact bytes (`Image.config`), never re-serialised.

The archives ndx writes are deterministic: sorted members, fixed modes and mtimes, owner
0:0, canonical JSON. Blobs are stored at `blobs/sha256/<hex>` in both formats, so one
function serves both and `write_docker_archive(…, oci=True)` yields a tar that is at once a
docker-archive and an OCI layout (as `docker save` does since Docker 25).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, Protocol, cast

from .errors import ArchiveError

# --- media types -------------------------------------------------------------------------

#: OCI image manifest, index and config.
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
#: OCI layers: uncompressed, gzip and zstd.
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
#: Docker schema 2 manifest, manifest list, config and layers (Docker has no zstd type).
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

#: Layer media type for each compression (None = uncompressed), OCI flavour.
LAYER_MEDIA_TYPES: dict[str | None, str] = {
    None: OCI_LAYER, "gzip": OCI_LAYER_GZIP, "zstd": OCI_LAYER_ZSTD}
#: The compression each known layer media type implies.
_COMPRESSION_OF: dict[str, str | None] = {
    OCI_LAYER: None, OCI_LAYER_GZIP: "gzip", OCI_LAYER_ZSTD: "zstd",
    DOCKER_LAYER: None, DOCKER_LAYER_GZIP: "gzip", DOCKER_FOREIGN_LAYER_GZIP: "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar": None,
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": "zstd",
}

#: The content of `oci-layout`.
OCI_LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}
#: Index annotations naming an image (the OCI one holds the tag, containerd's the full name).
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"

#: mtime of every member of an archive ndx writes (1 s after the epoch, like the store).
ARCHIVE_MTIME = 1

_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# Docker's reference grammar: an optional registry host[:port], then path components.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = (r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
         r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?")
_NAME_RE = re.compile(rf"(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*")
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_COPY_CHUNK = 1 << 20


# --- small helpers -----------------------------------------------------------------------

def sha256_digest(data: bytes) -> str:
    """`sha256:<hex>` of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_hex(digest: str) -> str:
    """The hex part of a `sha256:<hex>` digest, after checking its form."""
    if not _DIGEST_RE.match(digest):
        raise ArchiveError(f"not a sha256 digest: {digest!r}")
    return digest[len("sha256:"):]


def blob_path(digest: str) -> str:
    """Where a blob lives inside an archive or OCI layout: `blobs/sha256/<hex>`."""
    return "blobs/sha256/" + digest_hex(digest)


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no insignificant whitespace: equal values, equal bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def compression_of(media_type: str) -> str | None:
    """"gzip", "zstd" or None (uncompressed) for a layer media type."""
    if media_type in _COMPRESSION_OF:
        return _COMPRESSION_OF[media_type]
    if media_type.endswith(("+gzip", ".gzip")):
        return "gzip"
    if media_type.endswith("+zstd"):
        return "zstd"
    return None


def sniff_compression(head: bytes) -> str | None:
    """The compression of a stream, from its first bytes ("gzip", "zstd" or None)."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return None


def decompressed(stream: BinaryIO, compression: str | None) -> BinaryIO:
    """A reader of the uncompressed bytes of `stream` (multi-member gzip is handled)."""
    if compression is None:
        return stream
    if compression == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    if compression == "zstd":
        import zstandard

        reader: BinaryIO = zstandard.ZstdDecompressor().stream_reader(
            stream, read_across_frames=True)
        return reader
    raise ArchiveError(f"unknown compression {compression!r}")


def normalize_repo_tag(name: str, tag: str | None = None) -> str:
    """`name:tag` as `docker load` expects in `RepoTags` ("latest" when no tag is given).

    The name is lower-cased by nobody: Docker rejects upper case, and so do we."""
    if tag is None:
        last = name.rsplit("/", 1)[-1]
        name, tag = (name.rsplit(":", 1) if ":" in last else (name, "latest"))
    if not _NAME_RE.fullmatch(name):
        raise ArchiveError(f"invalid image name {name!r}: use lower-case letters, digits and "
                           "separators ('.', '_', '-', '/'), like 'redis' or 'example.com/app'")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        raise ArchiveError(f"invalid image tag {tag!r}: up to 128 letters, digits, '_', '.' "
                           "or '-', not starting with '.' or '-'")
    return f"{name}:{tag}"


def split_repo_tag(repo_tag: str) -> tuple[str, str]:
    """("name", "tag") from "name:tag" (the tag may not contain '/')."""
    name, sep, tag = repo_tag.rpartition(":")
    if not sep or "/" in tag:
        return repo_tag, "latest"
    return name, tag


def full_name(repo_tag: str) -> str:
    """The fully qualified reference containerd uses: `docker.io/library/redis:latest`."""
    name, tag = split_repo_tag(repo_tag)
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    return f"{name}:{tag}"


# --- the data model ----------------------------------------------------------------------

@dataclass(frozen=True)
class Layer:
    """One layer as stored: its blob (`digest`, `size`, `media_type`) and its `diff_id`."""

    diff_id: str
    digest: str
    size: int
    media_type: str = OCI_LAYER_GZIP

    @property
    def compression(self) -> str | None:
        """"gzip", "zstd" or None."""
        return compression_of(self.media_type)

    def descriptor(self, *, docker: bool = False) -> dict[str, Any]:
        """The manifest entry for this layer (Docker media types when `docker`)."""
        media_type = self.media_type
        if docker:
            media_type = {None: DOCKER_LAYER, "gzip": DOCKER_LAYER_GZIP}.get(
                self.compression, media_type)
        return {"mediaType": media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class Image:
    """An image: the exact config bytes, its layers bottom-first, and its names.

    `repo_tags` are `name:tag` strings, as in docker-archive's `RepoTags`."""

    config: bytes
    layers: tuple[Layer, ...]
    repo_tags: tuple[str, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def config_digest(self) -> str:
        """The digest of the config blob, which is also the image ID."""
        return sha256_digest(self.config)

    @property
    def config_json(self) -> dict[str, Any]:
        """The parsed config."""
        value = json.loads(self.config)
        if not isinstance(value, dict):
            raise ArchiveError("the image config is not a JSON object")
        return value

    def manifest(self, *, docker: bool = False) -> bytes:
        """This image's manifest (OCI by default, Docker schema 2 when `docker`), canonical
        JSON. Zstd layers exist only in OCI: asking for a Docker manifest of one fails."""
        if docker and any(layer.compression == "zstd" for layer in self.layers):
            raise ArchiveError("a Docker schema 2 manifest cannot describe zstd layers; "
                               "use an OCI manifest")
        value: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
                       "digest": self.config_digest, "size": len(self.config)},
            "layers": [layer.descriptor(docker=docker) for layer in self.layers],
        }
        if self.annotations and not docker:
            value["annotations"] = dict(self.annotations)
        return canonical_json(value)

    def check_diff_ids(self) -> None:
        """Fail unless the config's `rootfs.diff_ids` are exactly the layers' diff IDs."""
        rootfs = self.config_json.get("rootfs") or {}
        diff_ids = rootfs.get("diff_ids") or []
        if list(diff_ids) != [layer.diff_id for layer in self.layers]:
            raise ArchiveError(
                f"the config lists {len(diff_ids)} diff IDs that do not match the "
                f"{len(self.layers)} layers")


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """The chain ID of each layer (the identity of the layer stack up to it), as Docker
    computes them: chain(0) = diff(0), chain(n) = sha256(chain(n-1) + " " + diff(n))."""
    chains: list[str] = []
    for diff_id in diff_ids:
        chains.append(diff_id if not chains
                      else sha256_digest(f"{chains[-1]} {diff_id}".encode()))
    return chains


# --- where blobs come from ---------------------------------------------------------------

class BlobSource(Protocol):
    """Anything that can open a blob by digest (an archive being read, a directory of
    freshly written layers)."""

    def open_blob(self, digest: str) -> BinaryIO:
        """A reader of the stored bytes of blob `digest`."""
        ...


class BlobFiles:
    """Blobs that are plain files: a mapping digest → path (optionally chained to another
    source for the blobs it does not hold, such as the layers of a base image)."""

    def __init__(self, files: Mapping[str, str] | None = None,
                 fallback: BlobSource | None = None) -> None:
        self.files: dict[str, str] = dict(files or {})
        self.fallback = fallback
        self.verified: set[str] = set()

    def add(self, digest: str, path: str, *, verified: bool = False) -> None:
        """Make blob `digest` available from file `path`; `verified` when its digest was
        computed while writing it (it is then not hashed again when copied)."""
        self.files[digest] = path
        if verified:
            self.verified.add(digest)

    def open_blob(self, digest: str) -> BinaryIO:
        if digest in self.files:
            return open(self.files[digest], "rb")
        if self.fallback is not None:
            return self.fallback.open_blob(digest)
        raise ArchiveError(f"blob {digest} is not available")


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
                shutil.copyfileobj(decompressed(src, compression), dst, _COPY_CHUNK)
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
        return io.BufferedReader(_Slice(self._tar_path, offset, size), _COPY_CHUNK)

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
            for name, diff_id in zip(names, diff_ids):
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
                while chunk := f.read(_COPY_CHUNK):
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
                               for d, diff_id in zip(layer_descs, diff_ids))
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
            chunk = source.read(min(left, _COPY_CHUNK))
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
                    shutil.copyfileobj(_Exact(stream, content[1], digest), f, _COPY_CHUNK)
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


def iter_layer_members(stream: BinaryIO) -> Iterable[tarfile.TarInfo]:
    """The members of an uncompressed layer tar read as a stream (for listings)."""
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        yield from tar
