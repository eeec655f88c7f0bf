"""Errors of the image machinery that a user can cause (a bad argument, a broken archive)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ndx.lang.errors import NdxError


class ImageError(NdxError):
    """An image could not be built, read or written because of its input."""


class ArchiveError(ImageError):
    """A docker-archive or OCI layout is malformed or lacks what it must hold."""


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like `word` (for "did you mean …?" hints), or None."""
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    if not found:
        lowered = {c.lower(): c for c in candidates}
        return lowered.get(word.lower())
    return found[0]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """" (did you mean 'X'?)" when a candidate is close to `word`, else ""."""
    hint = closest(word, candidates)
    return f" (did you mean '{hint}'?)" if hint else ""
