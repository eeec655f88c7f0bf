"""ndx.stdlib.registry — the registry client: pulling images into the store, pushing and
copying them, and merging a base image's config; standard library HTTP only.

* `reference`     image references (`redis` → `docker.io/library/redis:latest`);
* `credentials`   auth files and credential helpers; `redact` keeps secrets out of text;
* `transport`     HTTP with TLS options, redirects, retries with backoff;
* `auth`          Bearer-token and Basic challenges;
* `client`        `RegistryClient`: manifests, blobs (verified, resumable), uploads, mounts;
* `platform`      platform selection in manifest lists and OCI indexes;
* `layers`        bounded decompression, layer validation, safe extraction;
* `source`        an image from a registry or an archive, as `Image` + blobs;
* `pull`          `pull_image` → deterministic docker-archive (`pullImage`);
* `transfer`      `copy_image`, `push_to_registry`: registry / OCI layout / docker-archive;
* `merge_image_config` and friends: a base image's config with ndx's (`docker build`),
  from `ndx.stdlib.image.config_merge`, the one merge images use;
* `builder`       the `builtin:pullImage` builder of the fixed-output derivation.

The names below load their module on first use (PEP 562), so that registering the
`pullImage` builtin (`primops`, imported by every evaluation) costs no HTTP, TLS or
client code: `from ndx.stdlib.registry import pull_image` works as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ndx.stdlib.image.config_merge import (
                                               merge_container_config,
                                               merge_env,
                                               merge_image_config,
    )

    from .client import ClientOptions, Manifest, RegistryClient
    from .errors import (
                         AuthError,
                         BadReferenceError,
                         DigestMismatchError,
                         ImageFormatError,
                         ManifestError,
                         NotFoundError,
                         PlatformError,
                         RegistryError,
                         TLSError,
                         TransportError,
                         UnsafeLayerError,
    )
    from .layers import LayerLimits, decompress_layer, extract_layer
    from .platform import Platform, host_platform
    from .pull import PullResult, pull_image
    from .reference import ImageReference, parse_reference
    from .transfer import copy_image, parse_location, push_to_registry

#: Where each public name lives.
_HOMES = {
    "merge_container_config": "ndx.stdlib.image.config_merge",
    "merge_env": "ndx.stdlib.image.config_merge",
    "merge_image_config": "ndx.stdlib.image.config_merge",
    **dict.fromkeys(("ClientOptions", "Manifest", "RegistryClient"), ".client"),
    **dict.fromkeys(("AuthError", "BadReferenceError", "DigestMismatchError",
                     "ImageFormatError", "ManifestError", "NotFoundError", "PlatformError",
                     "RegistryError", "TLSError", "TransportError", "UnsafeLayerError"),
                    ".errors"),
    **dict.fromkeys(("LayerLimits", "decompress_layer", "extract_layer"), ".layers"),
    **dict.fromkeys(("Platform", "host_platform"), ".platform"),
    **dict.fromkeys(("PullResult", "pull_image"), ".pull"),
    **dict.fromkeys(("ImageReference", "parse_reference"), ".reference"),
    **dict.fromkeys(("copy_image", "parse_location", "push_to_registry"), ".transfer"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AuthError", "BadReferenceError", "ClientOptions", "DigestMismatchError",
    "ImageFormatError", "ImageReference", "LayerLimits", "Manifest", "ManifestError",
    "NotFoundError", "Platform", "PlatformError", "PullResult", "RegistryClient",
    "RegistryError", "TLSError", "TransportError", "UnsafeLayerError", "copy_image",
    "decompress_layer", "extract_layer", "host_platform", "merge_container_config",
    "merge_env", "merge_image_config", "parse_location", "parse_reference", "pull_image",
    "push_to_registry",
]
