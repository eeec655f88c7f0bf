"""Image references: `redis`, `redis:7`, `quay.io/org/app@sha256:…`, `127.0.0.1:5000/x:y`.

Names follow the Docker rules: a first component that looks like a host (has a `.` or a
`:`, or is `localhost`) names the registry; otherwise the image is on Docker Hub, whose
single-component names live under `library/` (`redis` → `docker.io/library/redis`) and
whose API is served by `registry-1.docker.io`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BadReferenceError

DOCKER_HUB = "docker.io"
# Where Docker Hub's registry API actually answers.
DOCKER_HUB_API = "registry-1.docker.io"
# Spellings of Docker Hub found in references and in auth files.
DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io",
                                "registry.hub.docker.com"})

# One path component of a repository name (lower case, separators inside only).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_HOST_RE = re.compile(r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
                      r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                      r"|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?")


@dataclass(frozen=True)
class ImageReference:
    """A parsed reference. `registry` is the host (with port) as users write it
    (`docker.io` for Docker Hub); `repository` the full path (`library/redis`)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        """The host[:port] that serves the registry API for this reference."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def name(self) -> str:
        """The full name without tag or digest: `docker.io/library/redis`."""
        return f"{self.registry}/{self.repository}"

    def with_tag(self, tag: str | None) -> ImageReference:
        return ImageReference(self.registry, self.repository, tag, self.digest)

    def with_digest(self, digest: str | None) -> ImageReference:
        return ImageReference(self.registry, self.repository, self.tag, digest)

    def familiar(self) -> str:
        """The short form people write: `redis:7` rather than `docker.io/library/redis:7`."""
        name = self.name
        if self.registry == DOCKER_HUB:
            name = self.repository.removeprefix("library/")
        return name + (f":{self.tag}" if self.tag else "") + (
            f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (
            f"@{self.digest}" if self.digest else "")


def normalize_registry(host: str) -> str:
    """The canonical spelling of a registry host (all Docker Hub aliases → `docker.io`)."""
    host = host.strip().lower()
    for prefix in ("https://", "http://"):
        host = host.removeprefix(prefix)
    host = host.split("/", 1)[0]
    return DOCKER_HUB if host in DOCKER_HUB_ALIASES else host


def parse_reference(text: str, *, default_tag: str | None = "latest") -> ImageReference:
    """Parse `[HOST[:PORT]/]NAME[:TAG][@DIGEST]`; a reference without tag or digest gets
    `default_tag`. Raises `BadReferenceError` naming what is wrong."""
    original = text
    text = text.strip().removeprefix("docker://")
    if not text:
        raise BadReferenceError("empty image reference")
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not _DIGEST_RE.fullmatch(digest):
            raise BadReferenceError(f"invalid digest {digest!r} in image reference {original!r}",
                                    hint="a digest looks like sha256:<64 hex digits>")
    tag = None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1:]
        if not _TAG_RE.fullmatch(tag):
            raise BadReferenceError(f"invalid tag {tag!r} in image reference {original!r}")
    first, _, rest = text.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        if not _HOST_RE.fullmatch(first):
            raise BadReferenceError(f"invalid registry host {first!r} in {original!r}")
        registry, path = normalize_registry(first), rest
    else:
        registry, path = DOCKER_HUB, text
    if not _NAME_RE.fullmatch(path):
        hint = "repository names are lower case" if path.lower() != path else None
        raise BadReferenceError(f"invalid repository name {path!r} in image reference "
                                f"{original!r}", hint=hint)
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if tag is None and digest is None:
        tag = default_tag
    return ImageReference(registry, path, tag, digest)
