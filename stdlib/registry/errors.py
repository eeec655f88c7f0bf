"""The errors a registry user can run into, each a clear one-line message.

Every class derives from `NdxError`, so the CLI prints it as a diagnostic and never as a
traceback. Messages name the registry, repository and reference involved and, where there
is one, the fix; they never contain credentials (see `credentials.redact`).
"""

from __future__ import annotations

from ndx.lang.diagnostics import Diagnostic
from ndx.lang.errors import NdxError


class RegistryError(NdxError):
    """Something went wrong talking to a registry or handling an image."""

    code = "E-registry"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostic(self) -> Diagnostic:
        notes = (Diagnostic("note", self.hint),) if self.hint else ()
        return Diagnostic("error", self.message, None, notes, self.code)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class BadReferenceError(RegistryError):
    """An image reference (`NAME[:TAG][@DIGEST]`, `docker://…`) that cannot be parsed."""

    code = "E-registry-reference"


class NotFoundError(RegistryError):
    """The registry has no such repository, tag, manifest or blob (HTTP 404)."""

    code = "E-registry-not-found"


class AuthError(RegistryError):
    """Authentication is required, or the credentials given were refused (HTTP 401/403)."""

    code = "E-registry-auth"


class TransportError(RegistryError):
    """The registry could not be reached, kept failing (429/5xx), or spoke nonsense."""

    code = "E-registry-transport"


class TLSError(TransportError):
    """TLS could not be established: untrusted certificate, or a plain-HTTP registry."""

    code = "E-registry-tls"


class DigestMismatchError(RegistryError):
    """Downloaded content does not hash to the digest it was asked for."""

    code = "E-registry-digest"


class PlatformError(RegistryError):
    """A manifest list or index has no image for the requested platform."""

    code = "E-registry-platform"


class UnsafeLayerError(RegistryError):
    """A layer tarball tries to escape its root, or expands beyond the allowed bound."""

    code = "E-registry-unsafe-layer"


class ManifestError(RegistryError):
    """A manifest or image configuration that ndx cannot use (malformed, unsupported)."""

    code = "E-registry-manifest"


class ImageFormatError(RegistryError):
    """A docker-archive or OCI layout on disk that is malformed or missing pieces."""

    code = "E-registry-image-format"
