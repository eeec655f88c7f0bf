"""`builtin:pullImage`, the builder the build engine runs itself (like `builtin:fetchurl`)
for `pullImage { imageName; imageDigest; sha256; … }`: a fixed-output derivation whose
output is the docker-archive, checked by the store against the declared hash.

Its attributes are those of Nix's pullImage: `imageName`, `imageDigest`,
`finalImageName`, `finalImageTag`, `os`, `arch`, `variant` and `tlsVerify` ("1" or "").
Nothing secret is an attribute: credentials are read here, at build time, from the auth
files (`REGISTRY_AUTH_FILE`, `~/.docker/config.json`, …); extra trusted CAs come from
`NDX_REGISTRY_CA_FILE` or `SSL_CERT_FILE`, and plain-HTTP hosts may also be listed in
`NDX_INSECURE_REGISTRIES` (comma-separated HOST:PORT).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from .client import ClientOptions
from .errors import RegistryError
from .platform import Platform, host_platform, normalize_arch
from .pull import pull_image

BUILDER = "builtin:pullImage"


class _Derivation(Protocol):
    env: Mapping[str, str]
    name: str


def derivation_name(final_image_name: str, final_image_tag: str) -> str:
    """The store name of a pulled image, `docker-image-<name>-<tag>.tar` (as in Nix),
    with the characters a store name cannot hold replaced."""
    import re

    base = f"docker-image-{final_image_name}-{final_image_tag}.tar"
    return re.sub(r"[^A-Za-z0-9+\-._?=]", "-", base)


def options_from_environment(tls_verify: bool) -> ClientOptions:
    """Client options for a build: TLS and insecure hosts from the environment."""
    insecure = frozenset(h.strip() for h in
                         os.environ.get("NDX_INSECURE_REGISTRIES", "").split(",") if h.strip())
    return ClientOptions(insecure=not tls_verify, insecure_hosts=insecure,
                         ca_file=os.environ.get("NDX_REGISTRY_CA_FILE") or None,
                         progress=False)


def platform_from_attrs(env: Mapping[str, str]) -> Platform:
    host = host_platform()
    return Platform(env.get("os") or "linux", normalize_arch(env.get("arch") or host.architecture),
                    env.get("variant") or None)


def builtin_pull_image(store: Any, drv_path: str, drv: _Derivation, out: str,
                       log: Callable[[str], None], fetched: Callable[[int], None],
                       check_cancel: Callable[[], None]) -> None:
    """Pull the image the derivation names into `out` (the output's temporary place);
    the caller checks `out` against the fixed-output hash."""
    env = drv.env
    image_name = env.get("imageName", "")
    image_digest = env.get("imageDigest", "")
    if not image_name or not image_digest:
        raise RegistryError(f"'{drv_path}': {BUILDER} needs 'imageName' and 'imageDigest'")
    check_cancel()
    platform = platform_from_attrs(env)
    log(f"pulling {image_name}@{image_digest} for {platform}")
    try:
        result = pull_image(image_name, image_digest, Path(out),
                            final_image_name=env.get("finalImageName") or None,
                            final_image_tag=env.get("finalImageTag") or "latest",
                            platform=platform,
                            options=options_from_environment(env.get("tlsVerify", "1") == "1"))
    except RegistryError as exc:
        from ndx.stdlib.store.errors import BuildError

        raise BuildError(f"cannot pull {image_name}@{image_digest} for '{drv_path}': "
                         f"{exc}", drv_path) from None
    size = os.path.getsize(out)
    fetched(size)
    log(f"pulled {result.repo_tag} (image {result.config_digest}, {size} bytes)")
