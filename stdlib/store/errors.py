"""Errors of the store and the build engine that a user can cause.

They are `EvalError`s (hence `NdxError`s): raised during an evaluation — copying
`"${./my file}"`, import-from-derivation — the evaluator gives them the location and
the "while evaluating" trace; raised elsewhere (`ndx store gc`) they print plainly.
"""

from __future__ import annotations

from ndx.evaluator.errors import EvalError


class StoreError(EvalError):
    """A store operation that cannot be done: an invalid path, a missing input, a path
    still referenced, an unusable store directory."""

    code = "E-store"


class BuildError(StoreError):
    """A derivation whose builder failed (or produced something the store refuses)."""

    code = "E-build"

    def __init__(self, message: str, drv_path: str = "") -> None:
        super().__init__(message)
        self.drv_path = drv_path


class HashMismatchError(BuildError):
    """A fixed output whose content does not have the declared hash."""


class SandboxUnavailableError(StoreError):
    """bubblewrap is missing or cannot create namespaces here."""
