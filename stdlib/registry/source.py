"""Where an image comes from: a registry (fetching manifests and verified blobs into a
local blob cache) or an archive on disk. Either way the result is the image module's
`Image` (exact config bytes, layer descriptors) plus a `BlobSource` to read blobs from,
so every destination works with every source."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ndx.stdlib.image.archive_reader import ImageArchive
from ndx.stdlib.image.image_model import BlobSource, Image, Layer

from .client import ClientOptions, Manifest, RegistryClient
from .digest import check_digest, file_digest
from .errors import ManifestError
from .mediatypes import (
    DOCKER_MANIFEST_V1,
    DOCKER_MANIFEST_V1_SIGNED,
    IMAGE_MANIFEST_TYPES,
    INDEX_TYPES,
    LAYER_COMPRESSION,
)
from .platform import Platform, host_platform, select_manifest
from .reference import ImageReference


def cache_dir() -> Path:
    """The blob cache: $NDX_CACHE_DIR/registry, else $XDG_CACHE_HOME/ndx/registry."""
    base = os.environ.get("NDX_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = os.path.join(xdg, "ndx")
    return Path(base, "registry")


@dataclass(frozen=True)
class ResolvedImage:
    """An image found in a registry: the digest that pins it (`pinned`: the index's when
    the reference led to one, as `imageDigest` wants), the platform manifest, and the
    config bytes."""

    reference: ImageReference
    pinned: str
    manifest: Manifest
    config: bytes
    layers: tuple[Layer, ...]
    platform: Platform | None

    def image(self, repo_tags: tuple[str, ...] = ()) -> Image:
        return Image(self.config, self.layers, repo_tags)


def _layers_of(manifest: dict[str, Any], config: dict[str, Any], what: str) -> tuple[Layer, ...]:
    descs = manifest.get("layers")
    diff_ids = (config.get("rootfs") or {}).get("diff_ids")
    if not isinstance(descs, list) or not isinstance(diff_ids, list):
        raise ManifestError(f"{what}: manifest or config lacks its layer list")
    if len(descs) != len(diff_ids):
        raise ManifestError(f"{what}: the manifest has {len(descs)} layers but the config "
                            f"lists {len(diff_ids)} diff IDs")
    layers = []
    for desc, diff_id in zip(descs, diff_ids, strict=True):
        media_type = str(desc.get("mediaType") or "")
        if media_type not in LAYER_COMPRESSION:
            raise ManifestError(f"{what}: unsupported layer media type {media_type!r}")
        digest = str(desc.get("digest"))
        check_digest(digest)
        check_digest(str(diff_id))
        layers.append(Layer(str(diff_id), digest, int(desc.get("size") or 0), media_type))
    return tuple(layers)


def resolve(client: RegistryClient, ref: ImageReference,
            platform: Platform | None = None) -> ResolvedImage:
    """Fetch the manifest (choosing the platform in an index) and the config of `ref`."""
    wanted = platform or host_platform()
    top = client.get_manifest(ref.repository, ref.reference)
    manifest = top
    chosen: Platform | None = None
    what = ref.familiar()
    if top.media_type in (DOCKER_MANIFEST_V1, DOCKER_MANIFEST_V1_SIGNED):
        raise ManifestError(f"{what} has a Docker schema 1 manifest, which is not supported",
                            hint="re-push the image with a current client")
    if top.media_type in INDEX_TYPES or "manifests" in top.json():
        descriptor = select_manifest(top.json().get("manifests") or [], wanted,
                                     f"{what} (index {top.digest})")
        manifest = client.get_manifest(ref.repository, str(descriptor["digest"]))
        chosen = wanted
    elif top.media_type and top.media_type not in IMAGE_MANIFEST_TYPES:
        raise ManifestError(f"{what}: unsupported manifest type {top.media_type!r}")
    body = manifest.json()
    config_desc = body.get("config")
    if not isinstance(config_desc, dict) or "digest" not in config_desc:
        raise ManifestError(f"{what}: manifest {manifest.digest} has no config")
    config = client.get_blob_bytes(ref.repository, str(config_desc["digest"]))
    try:
        config_json = json.loads(config)
    except ValueError:
        raise ManifestError(f"{what}: the image config is not valid JSON") from None
    layers = _layers_of(body, config_json, what)
    return ResolvedImage(ref, top.digest, manifest, config, layers, chosen)


class RegistryBlobs:
    """A `BlobSource` over a registry repository: each blob is downloaded once into the
    cache (verified, resumable) and read from there."""

    def __init__(self, client: RegistryClient, repository: str,
                 cache: Path | None = None, sizes: dict[str, int] | None = None) -> None:
        self.client = client
        self.repository = repository
        self.cache = cache or cache_dir()
        self.sizes = dict(sizes or {})

    def path(self, digest: str) -> Path:
        """The verified local copy of blob `digest`, downloading it if needed."""
        algo, hexpart = check_digest(digest)
        target = self.cache / "blobs" / algo / hexpart
        if target.exists():
            if file_digest(str(target), algo) == digest:
                return target
            target.unlink()
        return self.client.fetch_blob(self.repository, digest, target,
                                      size=self.sizes.get(digest), label=digest[7:19])

    def open_blob(self, digest: str) -> BinaryIO:
        return open(self.path(digest), "rb")


class ArchiveBlobs:
    """A `BlobSource` over an opened `ImageArchive`."""

    def __init__(self, archive: ImageArchive) -> None:
        self.archive = archive

    def open_blob(self, digest: str) -> BinaryIO:
        return self.archive.open_blob(digest)


def registry_source(ref: ImageReference, options: ClientOptions,
                    platform: Platform | None = None,
                    cache: Path | None = None) -> tuple[ResolvedImage, BlobSource]:
    client = RegistryClient(ref.api_host, options)
    resolved = resolve(client, ref, platform)
    sizes = {layer.digest: layer.size for layer in resolved.layers}
    return resolved, RegistryBlobs(client, ref.repository, cache, sizes)
