"""The vocabulary of image formats: media types, digests, layer compression, canonical
JSON and image names (`name:tag`), shared by the archive reader and writer and the
registry client."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, BinaryIO

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
#: How much is copied at a time between blobs and files.
COPY_CHUNK = 1 << 20


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
