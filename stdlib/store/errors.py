"""Errors of the store and the build engine that a user can cause (all `NdxError`s)."""

from __future__ import annotations

from ndx.lang.errors import NdxError


class StoreError(NdxError):
    """A store operation that cannot be done: an invalid path, a missing input, a path
    still referenced, an unusable store directory."""


class BuildError(StoreError):
    """A derivation whose builder failed (or produced something the store refuses)."""

    def __init__(self, message: str, drv_path: str = "") -> None:
        super().__init__(message)
        self.drv_path = drv_path


class HashMismatchError(BuildError):
    """A fixed output whose content does not have the declared hash."""


class SandboxUnavailableError(StoreError):
    """bubblewrap is missing or cannot create namespaces here."""
