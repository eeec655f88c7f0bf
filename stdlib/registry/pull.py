"""`pullImage`: fetch an image from a registry into a docker-archive.

The archive is a deterministic function of what was pulled — the config bytes, the
uncompressed layers (each checked against the config's diff IDs) and the name
`finalImageName:finalImageTag` — so its hash is stable however the registry compressed
the layers, and a fixed-output derivation can pin it with `sha256`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ndx.stdlib.image.archive_writer import write_docker_archive
from ndx.stdlib.image.errors import ArchiveError
from ndx.stdlib.image.image_format import OCI_LAYER, normalize_repo_tag
from ndx.stdlib.image.image_model import BlobFiles, Image, Layer

from . import locations
from .client import ClientOptions
from .digest import check_digest, file_digest
from .errors import BadReferenceError, DigestMismatchError
from .layers import DEFAULT_LIMITS, LayerLimits, decompress_layer
from .platform import Platform
from .reference import ImageReference, parse_reference
from .source import RegistryBlobs, ResolvedImage, cache_dir, registry_source


@dataclass(frozen=True)
class PullResult:
    """What a pull produced: the archive, the digest pinning the image (`imageDigest`),
    the platform manifest's digest, the image ID (config digest) and the archive's
    sha256 (hex)."""

    path: Path
    image_digest: str
    manifest_digest: str
    config_digest: str
    repo_tag: str
    sha256: str


def final_repo_tag(image_name: str, final_image_name: str | None,
                   final_image_tag: str | None) -> str:
    """`finalImageName:finalImageTag` (name defaults to `imageName` without tag/digest)."""
    if final_image_name is None:
        ref = parse_reference(image_name, default_tag=None)
        name = ref.familiar().split("@")[0]
        if ref.tag:
            name = name[: -len(ref.tag) - 1]
        final_image_name = name
    try:
        return normalize_repo_tag(final_image_name, final_image_tag or "latest")
    except ArchiveError as exc:
        raise BadReferenceError(str(exc)) from None


def unpack_layers(resolved: ResolvedImage, blobs: RegistryBlobs, staging: Path,
                  limits: LayerLimits) -> tuple[tuple[Layer, ...], BlobFiles]:
    """Download, verify, decompress and check every layer; the layers as uncompressed
    blobs (digest = diff ID) and where their files are."""
    files = BlobFiles()
    layers = []
    total = len(resolved.layers)
    for i, layer in enumerate(resolved.layers, 1):
        what = f"layer {i}/{total} ({layer.digest}) of {resolved.reference.familiar()}"
        target = staging / layer.diff_id.split(":", 1)[1]
        if not target.exists():
            blob = blobs.path(layer.digest)
            diff_id = decompress_layer(blob, target, compressed_size=blob.stat().st_size,
                                       what=what, limits=limits)
            if diff_id != layer.diff_id:
                target.unlink()
                raise DigestMismatchError(
                    f"{what}: uncompressed content has digest {diff_id}, but the image "
                    f"config says {layer.diff_id}; nothing was stored")
        files.add(layer.diff_id, str(target))
        layers.append(Layer(layer.diff_id, layer.diff_id, target.stat().st_size, OCI_LAYER))
    return tuple(layers), files


def pull_image(image_name: str, image_digest: str | None, out: Path, *,
               final_image_name: str | None = None, final_image_tag: str | None = "latest",
               platform: Platform | None = None, options: ClientOptions | None = None,
               cache: Path | None = None, limits: LayerLimits = DEFAULT_LIMITS) -> PullResult:
    """Pull `image_name` (pinned to `image_digest` when given) for `platform` and write
    the docker-archive `out`. Nothing is left at `out` unless everything verified."""
    options = options or ClientOptions()
    ref: ImageReference = parse_reference(image_name)
    if image_digest:
        check_digest(image_digest)
        ref = ref.with_digest(image_digest)
    repo_tag = final_repo_tag(image_name, final_image_name, final_image_tag)
    cache = cache or cache_dir()
    resolved, blobs = registry_source(ref, options, platform, cache)
    assert isinstance(blobs, RegistryBlobs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=".ndx-pull-"))
    try:
        layers, files = unpack_layers(resolved, blobs, staging, limits)
        image = Image(resolved.config, layers, (repo_tag,))
        partial = staging / "archive.tar"
        with open(partial, "wb") as f:
            write_docker_archive(f, [image], files)
        os.replace(partial, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    locations.remember(cache, ref.api_host, ref.repository,
                       [layer.digest for layer in resolved.layers])
    return PullResult(out, resolved.pinned, resolved.manifest.digest,
                      image.config_digest, repo_tag, file_digest(str(out)).split(":", 1)[1])
