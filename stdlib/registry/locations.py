"""A small memory of which repositories hold which blobs (`host/repo` per digest), kept in
the blob cache: a push then mounts a layer from a repository it came from (a base image
pulled from the same registry) instead of uploading it again."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

# Repositories remembered per blob: enough to find one on the right registry.
_KEEP = 8


def _file(cache: Path) -> Path:
    return cache / "locations.json"


def _load(cache: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(_file(cache).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember(cache: Path, host: str, repository: str, digests: Iterable[str]) -> None:
    """Record that `host/repository` holds each of `digests`."""
    data = _load(cache)
    where = f"{host}/{repository}"
    for digest in digests:
        places = [p for p in data.get(digest, []) if p != where]
        data[digest] = [where] + places[: _KEEP - 1]
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache, prefix=".locations-")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, sort_keys=True)
    os.replace(tmp, _file(cache))


def repositories_with(cache: Path, host: str, digest: str) -> list[str]:
    """Repositories on `host` known to hold `digest`, most recent first."""
    prefix = f"{host}/"
    return [p[len(prefix):] for p in _load(cache).get(digest, []) if p.startswith(prefix)]
