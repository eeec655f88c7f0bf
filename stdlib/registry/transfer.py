"""Moving images between the three places ndx knows — a registry (`docker://REF`), an
OCI image layout directory (`oci-layout:DIR[:TAG]`) and a docker-archive file
(`docker-archive:PATH`, what `ndx-build` produces) — for `ndx push` and `ndx image copy`.

Blobs travel as they are where the destination allows it (registry ↔ OCI layout keep
their digests, as `skopeo copy` does); uncompressed layers (from a docker-archive) are
gzip-compressed, deterministically, on their way to a registry or layout; a
docker-archive destination gets checked, uncompressed layers.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from ndx.stdlib.image.archive_reader import ImageArchive
from ndx.stdlib.image.archive_writer import write_docker_archive, write_oci_layout
from ndx.stdlib.image.errors import ArchiveError
from ndx.stdlib.image.image_format import (
    LAYER_MEDIA_TYPES,
    OCI_LAYER,
    REF_NAME,
    normalize_repo_tag,
    sha256_digest,
)
from ndx.stdlib.image.image_model import BlobFiles, BlobSource, Image, Layer

from . import locations
from .client import ClientOptions, RegistryClient
from .errors import BadReferenceError, ImageFormatError, RegistryError
from .layers import DEFAULT_LIMITS, LayerLimits, decompress_layer
from .mediatypes import MANIFEST_TYPE
from .platform import Platform
from .progress import Progress
from .reference import ImageReference, parse_reference
from .source import ArchiveBlobs, cache_dir, registry_source

_READ = 1 << 20


@dataclass(frozen=True)
class Location:
    """A parsed transport reference. `kind` is "docker", "oci-layout" or "docker-archive";
    `path` the directory or file; `ref` the registry reference; `tag` a layout's tag."""

    kind: str
    path: str | None = None
    ref: ImageReference | None = None
    tag: str | None = None

    def __str__(self) -> str:
        if self.kind == "docker":
            return f"docker://{self.ref}"
        return f"{self.kind}:{self.path}" + (f":{self.tag}" if self.tag else "")


def parse_location(text: str, *, default_kind: str | None = None) -> Location:
    """`docker://REF`, `oci-layout:DIR[:TAG]` (also `oci:`), `docker-archive:PATH[:NAME:TAG]`,
    or — with `default_kind` — a bare path (which may contain colons)."""
    if text.startswith("docker://"):
        return Location("docker", ref=parse_reference(text[len("docker://"):]))
    for prefix, kind in (("oci-layout:", "oci-layout"), ("oci:", "oci-layout"),
                         ("docker-archive:", "docker-archive")):
        if text.startswith(prefix):
            rest = text[len(prefix):]
            # As skopeo does: the path ends at the first colon (paths with colons are not
            # supported); a layout's tag or an archive's NAME:TAG follow it.
            path, _, tag_text = rest.partition(":")
            tag = tag_text or None
            if not path:
                raise BadReferenceError(f"{text!r}: missing path")
            return Location(kind, path=path, tag=tag)
    if default_kind and "://" not in text:
        return Location(default_kind, path=text)
    raise BadReferenceError(
        f"unknown image location {text!r}",
        hint="use docker://HOST[:PORT]/REPO:TAG, oci-layout:DIR[:TAG] or docker-archive:PATH")


# -- layer compression ------------------------------------------------------------------

def _compress(src: BinaryIO, dst: BinaryIO, compression: str) -> None:
    if compression == "gzip":
        # mtime 0 and no file name: the same layer always compresses to the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=dst, mtime=0,
                           compresslevel=6) as gz:
            shutil.copyfileobj(src, gz, _READ)
    elif compression == "zstd":
        cctx = zstandard.ZstdCompressor(level=3, write_checksum=True)
        cctx.copy_stream(src, dst, read_size=_READ, write_size=_READ)
    else:
        raise RegistryError(f"unknown compression {compression!r}")


def compress_layers(image: Image, blobs: BlobSource, compression: str | None,
                    workdir: Path) -> tuple[Image, BlobSource]:
    """The image with its uncompressed layers compressed (`compression` "gzip"/"zstd";
    None keeps every layer as it is). Compressed layers are left alone."""
    if compression is None or all(layer.compression is not None for layer in image.layers):
        return image, blobs
    files = BlobFiles(fallback=blobs)
    layers = []
    for layer in image.layers:
        if layer.compression is not None:
            layers.append(layer)
            continue
        tmp = workdir / f"compress-{len(layers)}"
        with blobs.open_blob(layer.digest) as src, open(tmp, "wb") as dst:
            _compress(src, dst, compression)
        digest = _file_sha256(tmp)
        files.add(digest, str(tmp))
        layers.append(Layer(layer.diff_id, digest, tmp.stat().st_size,
                            LAYER_MEDIA_TYPES[compression]))
    return replace(image, layers=tuple(layers)), files


def _file_sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_READ):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


# -- destinations -----------------------------------------------------------------------

def push_to_registry(image: Image, blobs: BlobSource, ref: ImageReference,
                     options: ClientOptions, *, format: str = "docker",
                     chunk_size: int | None = None, mount_from: Sequence[str] = (),
                     cache: Path | None = None) -> str:
    """Upload the blobs the registry lacks (mounting from another repository when one is
    known to hold them), then the manifest under `ref`'s tag. Returns the manifest digest."""
    cache = cache or cache_dir()
    if format == "docker" and any(layer.compression == "zstd" for layer in image.layers):
        format = "oci"
    client = RegistryClient(ref.api_host, options)
    repo = ref.repository
    config_digest = image.config_digest
    wanted: list[tuple[str, int, Callable[[], BinaryIO]]] = [
        (config_digest, len(image.config), lambda: io.BytesIO(image.config))]
    seen = {config_digest}
    for layer in image.layers:
        if layer.digest not in seen:
            seen.add(layer.digest)
            wanted.append((layer.digest, layer.size,
                           lambda d=layer.digest: blobs.open_blob(d)))  # type: ignore[misc]
    for digest, size, opener in wanted:
        label = digest[7:19]
        if client.blob_size(repo, digest) is not None:
            Progress(label, size, enabled=options.progress).finish("already exists")
            continue
        candidates = list(mount_from) + locations.repositories_with(cache, ref.api_host, digest)
        mounted = False
        for source_repo in dict.fromkeys(candidates):
            if source_repo != repo and client.mount_blob(repo, digest, source_repo):
                Progress(label, size, enabled=options.progress).finish(
                    f"mounted from {source_repo}")
                mounted = True
                break
        if not mounted:
            client.upload_blob(repo, digest, opener, size, chunk_size=chunk_size, label=label)
    manifest = image.manifest(docker=(format == "docker"))
    digest = client.put_manifest(repo, ref.tag or sha256_digest(manifest), manifest,
                                 MANIFEST_TYPE[format])
    locations.remember(cache, ref.api_host, repo, [d for d, _, _ in wanted])
    return digest


def write_to_oci_layout(image: Image, blobs: BlobSource, directory: str,
                        tag: str | None) -> str:
    """Add the image to the OCI layout `directory` (created if needed) under `tag`,
    replacing an image of the same tag and keeping the others. Returns the manifest
    digest."""
    index_path = os.path.join(directory, "index.json")
    old: list[dict[str, Any]] = []
    if os.path.exists(index_path):
        try:
            with open(index_path) as f:
                old = list(json.load(f).get("manifests") or [])
        except (OSError, ValueError, AttributeError):
            raise ImageFormatError(f"{directory}: index.json is unreadable") from None
    named = replace(image, repo_tags=(normalize_repo_tag("image", tag or "latest"),))
    try:
        write_oci_layout(directory, [named], blobs)
    except ArchiveError as exc:
        raise ImageFormatError(str(exc)) from None
    manifest = named.manifest()
    entry: dict[str, Any] = {"mediaType": MANIFEST_TYPE["oci"], "digest": sha256_digest(manifest),
             "size": len(manifest)}
    if tag:
        entry["annotations"] = {REF_NAME: tag}
    kept = [d for d in old if not (tag and _ref_name(d) == tag)]
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": kept + [entry]}
    with open(index_path, "w") as f:
        json.dump(index, f, sort_keys=True, separators=(",", ":"))
    return str(entry["digest"])


def _ref_name(descriptor: dict[str, Any]) -> str | None:
    annotations = descriptor.get("annotations")
    return annotations.get(REF_NAME) if isinstance(annotations, dict) else None


def write_to_docker_archive(image: Image, blobs: BlobSource, path: str,
                            repo_tag: str | None, limits: LayerLimits = DEFAULT_LIMITS) -> None:
    """Write a docker-archive with uncompressed, checked layers."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".ndx-copy-"))
    try:
        files = BlobFiles()
        layers = []
        for i, layer in enumerate(image.layers, 1):
            out = staging / layer.diff_id.split(":", 1)[1]
            if not out.exists():
                blob = staging / f"blob-{i}"
                with blobs.open_blob(layer.digest) as src, open(blob, "wb") as dst:
                    shutil.copyfileobj(src, dst, _READ)
                what = f"layer {i}/{len(image.layers)} ({layer.digest})"
                diff_id = decompress_layer(blob, out, compressed_size=blob.stat().st_size,
                                           what=what, limits=limits)
                blob.unlink()
                if diff_id != layer.diff_id:
                    raise ImageFormatError(f"{what}: uncompressed digest {diff_id} does not "
                                           f"match the config's {layer.diff_id}")
            files.add(layer.diff_id, str(out))
            layers.append(Layer(layer.diff_id, layer.diff_id, out.stat().st_size, OCI_LAYER))
        tags = (normalize_repo_tag(repo_tag),) if repo_tag else image.repo_tags
        plain = Image(image.config, tuple(layers), tags)
        partial = staging / "archive.tar"
        with open(partial, "wb") as f:
            write_docker_archive(f, [plain], files)
        os.replace(partial, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# -- the one entry point ----------------------------------------------------------------

@dataclass(frozen=True)
class CopyResult:
    destination: str
    manifest_digest: str | None


def copy_image(source: str, destination: str, *, options: ClientOptions | None = None,
               platform: Platform | None = None, format: str | None = None,
               compression: str | None = "gzip", chunk_size: int | None = None,
               mount_from: Sequence[str] = (), cache: Path | None = None,
               default_source_kind: str | None = "docker-archive") -> CopyResult:
    """Copy an image from `source` to `destination` (see `parse_location`). A bare source
    path is a docker-archive or an OCI layout directory (an `ndx-build` result)."""
    options = options or ClientOptions()
    src = parse_location(source, default_kind=default_source_kind)
    dst = parse_location(destination)
    workdir = Path(tempfile.mkdtemp(prefix="ndx-copy-"))
    archive: ImageArchive | None = None
    try:
        source_format = "docker"
        mounts = list(mount_from)
        if src.kind == "docker":
            assert src.ref is not None
            resolved, blobs = registry_source(src.ref, options, platform, cache)
            image = resolved.image()
            source_format = "oci" if resolved.manifest.media_type == MANIFEST_TYPE["oci"] \
                else "docker"
            if dst.ref is not None and dst.ref.api_host == src.ref.api_host:
                mounts.append(src.ref.repository)
        else:
            assert src.path is not None
            if not os.path.exists(src.path):
                raise ImageFormatError(f"{src.path}: no such file or directory")
            try:
                archive = ImageArchive(src.path, platform=str(platform) if platform else None)
                image = archive.image(src.tag if src.tag and ":" in src.tag else None) \
                    if src.kind == "docker-archive" else _layout_image(archive, src.tag)
            except ArchiveError as exc:
                raise ImageFormatError(str(exc)) from None
            source_format = "oci" if archive.format == "oci" else "docker"
            blobs = ArchiveBlobs(archive)
        if dst.kind == "docker-archive":
            assert dst.path is not None
            write_to_docker_archive(image, blobs, dst.path, dst.tag)
            return CopyResult(str(dst), None)
        image, blobs = compress_layers(image, blobs, compression, workdir)
        if dst.kind == "oci-layout":
            assert dst.path is not None
            digest = write_to_oci_layout(image, blobs, dst.path, dst.tag)
            return CopyResult(str(dst), digest)
        assert dst.ref is not None
        if dst.ref.digest:
            raise BadReferenceError(f"{destination}: push to a tag, not a digest")
        digest = push_to_registry(image, blobs, dst.ref, options,
                                  format=format or source_format, chunk_size=chunk_size,
                                  mount_from=mounts, cache=cache)
        return CopyResult(str(dst), digest)
    finally:
        if archive is not None:
            archive.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _layout_image(archive: ImageArchive, tag: str | None) -> Image:
    """The image of an OCI layout tagged `tag` (its `org.opencontainers.image.ref.name`),
    or the only one when no tag is given."""
    images = archive.images()
    if tag is None:
        if len(images) != 1:
            raise ImageFormatError(f"{archive.path} holds {len(images)} images; name one with "
                                   f"oci-layout:{archive.path}:TAG")
        return images[0]
    try:
        with open(os.path.join(archive.path, "index.json")) as f:
            entries = list(json.load(f).get("manifests") or [])
    except (OSError, ValueError, AttributeError):
        entries = []
    tags = [str((e.get("annotations") or {}).get(REF_NAME, "")) for e in entries]
    if tag in tags and len(entries) == len(images):
        return images[tags.index(tag)]
    for image in images:
        if any(t == tag or t.rsplit(":", 1)[-1] == tag for t in image.repo_tags):
            return image
    raise ImageFormatError(f"{archive.path} has no image tagged {tag!r}"
                           + (f" (it has {', '.join(t for t in tags if t)})" if any(tags) else ""))
