"""Image archives: docker-archive and the OCI image layout — the one import for them.

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

The work is done in four modules, one job each: `image_format` (media types, digests,
compression, names), `image_model` (`Layer`, `Image`, blob sources), `archive_reader`
(`ImageArchive`) and `archive_writer` (`write_docker_archive`, `write_oci_layout`, …);
this module re-exports their public names so callers need not know the split.
"""

from __future__ import annotations

from .archive_reader import (
    ImageArchive,
    iter_layer_members,
)
from .archive_writer import (
    write_docker_archive,
    write_oci_archive,
    write_oci_layout,
)
from .image_format import (
    ARCHIVE_MTIME,
    CONTAINERD_NAME,
    DOCKER_CONFIG,
    DOCKER_FOREIGN_LAYER_GZIP,
    DOCKER_LAYER,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    LAYER_MEDIA_TYPES,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    OCI_LAYOUT_VERSION,
    OCI_MANIFEST,
    REF_NAME,
    blob_path,
    canonical_json,
    compression_of,
    decompressed,
    digest_hex,
    full_name,
    normalize_repo_tag,
    sha256_digest,
    sniff_compression,
    split_repo_tag,
)
from .image_model import (
    BlobFiles,
    BlobSource,
    Image,
    Layer,
    chain_ids,
)

__all__ = [
    "ARCHIVE_MTIME",
    "BlobFiles",
    "BlobSource",
    "CONTAINERD_NAME",
    "DOCKER_CONFIG",
    "DOCKER_FOREIGN_LAYER_GZIP",
    "DOCKER_LAYER",
    "DOCKER_LAYER_GZIP",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "Image",
    "ImageArchive",
    "LAYER_MEDIA_TYPES",
    "Layer",
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_LAYER_GZIP",
    "OCI_LAYER_ZSTD",
    "OCI_LAYOUT_VERSION",
    "OCI_MANIFEST",
    "REF_NAME",
    "blob_path",
    "canonical_json",
    "chain_ids",
    "compression_of",
    "decompressed",
    "digest_hex",
    "full_name",
    "iter_layer_members",
    "normalize_repo_tag",
    "sha256_digest",
    "sniff_compression",
    "split_repo_tag",
    "write_docker_archive",
    "write_oci_archive",
    "write_oci_layout",
]
