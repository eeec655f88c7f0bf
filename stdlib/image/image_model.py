"""The data model of an image — `Layer`, `Image` (config bytes, layers, names) — and
where blobs come from (`BlobSource`, `BlobFiles`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from .errors import ArchiveError
from .image_format import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    canonical_json,
    compression_of,
    sha256_digest,
)

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
