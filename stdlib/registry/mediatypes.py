"""Media types of the Docker schema 2 and OCI image formats, and how they group.

Registries label every manifest and blob with one of these; the pull side accepts all of
them, the push side writes the pair matching the chosen format.
"""

from __future__ import annotations

# Docker image manifest, schema 2, and its multi-platform list.
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
# Docker schema 1 (signed, legacy): recognised only to refuse it with a clear message.
DOCKER_MANIFEST_V1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_MANIFEST_V1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

# OCI image spec 1.0/1.1.
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_NONDIST_LAYER_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"

# What a pull accepts for a manifest, most specific first.
MANIFEST_ACCEPT = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)

INDEX_TYPES = frozenset({DOCKER_MANIFEST_LIST, OCI_INDEX})
IMAGE_MANIFEST_TYPES = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})

# Layer media type -> compression ("none", "gzip", "zstd").
LAYER_COMPRESSION = {
    DOCKER_LAYER_TAR: "none",
    DOCKER_LAYER_GZIP: "gzip",
    DOCKER_LAYER_ZSTD: "zstd",
    DOCKER_FOREIGN_LAYER: "gzip",
    OCI_LAYER_TAR: "none",
    OCI_LAYER_GZIP: "gzip",
    OCI_LAYER_ZSTD: "zstd",
    OCI_NONDIST_LAYER_GZIP: "gzip",
}

# Layer media type to write for each (format, compression).
LAYER_TYPE = {
    ("docker", "gzip"): DOCKER_LAYER_GZIP,
    ("docker", "none"): DOCKER_LAYER_TAR,
    ("docker", "zstd"): DOCKER_LAYER_ZSTD,
    ("oci", "gzip"): OCI_LAYER_GZIP,
    ("oci", "none"): OCI_LAYER_TAR,
    ("oci", "zstd"): OCI_LAYER_ZSTD,
}
MANIFEST_TYPE = {"docker": DOCKER_MANIFEST, "oci": OCI_MANIFEST}
CONFIG_TYPE = {"docker": DOCKER_CONFIG, "oci": OCI_CONFIG}


def format_of_manifest(media_type: str) -> str:
    """"docker" or "oci" for an image manifest media type."""
    return "oci" if media_type == OCI_MANIFEST else "docker"
