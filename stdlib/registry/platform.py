"""Platforms (os/architecture/variant) and picking one image out of a manifest list or
OCI index, the way `docker pull --platform` does."""

from __future__ import annotations

import platform as _host
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import PlatformError

# `uname -m` spellings → the GOARCH names registries use.
_MACHINE_TO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
                    "armv7l": "arm", "armv6l": "arm", "i386": "386", "i686": "386",
                    "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}
# Variants implied when none is given, per architecture (as containerd normalises them).
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @classmethod
    def parse(cls, text: str) -> Platform:
        """`linux/arm64/v8`, `linux/amd64`."""
        parts = text.split("/")
        if not 2 <= len(parts) <= 3 or not all(parts):
            raise PlatformError(f"invalid platform {text!r}", hint="expected OS/ARCH[/VARIANT]")
        return cls(parts[0], normalize_arch(parts[1]), parts[2] if len(parts) == 3 else None)


def normalize_arch(arch: str) -> str:
    return _MACHINE_TO_ARCH.get(arch, arch)


def host_platform() -> Platform:
    """The platform of this machine."""
    return Platform("linux", normalize_arch(_host.machine()))


def _variant_matches(wanted: str | None, arch: str, offered: str | None) -> bool:
    if wanted is None:
        return True
    default = _DEFAULT_VARIANT.get(arch)
    return (offered or default) == (wanted or default)


def platform_of(descriptor: Mapping[str, Any]) -> Platform | None:
    p = descriptor.get("platform")
    if not isinstance(p, Mapping):
        return None
    return Platform(str(p.get("os", "")), normalize_arch(str(p.get("architecture", ""))),
                    p.get("variant") or None)


def select_manifest(manifests: Sequence[Mapping[str, Any]], wanted: Platform,
                    what: str) -> Mapping[str, Any]:
    """The descriptor in an index's `manifests` for `wanted`, preferring an exact variant
    match; raises `PlatformError` listing the platforms the index does have."""
    candidates = []
    for d in manifests:
        p = platform_of(d)
        if p is None or p.os != wanted.os or p.architecture != wanted.architecture:
            continue
        if not _variant_matches(wanted.variant, p.architecture, p.variant):
            continue
        candidates.append((p.variant == wanted.variant, d))
    if candidates:
        # Exact variant first; otherwise the first listed, as Docker does.
        candidates.sort(key=lambda c: not c[0])
        return candidates[0][1]
    available = sorted({str(p) for d in manifests if (p := platform_of(d)) and p.os != "unknown"})
    raise PlatformError(
        f"{what} has no image for platform {wanted}; available: "
        + (", ".join(available) if available else "none"),
        hint="choose one with os/arch (pullImage) or --os/--arch/--variant")
