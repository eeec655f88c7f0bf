"""The layer cache: a layer of store paths is written once and reused by every image and
every rebuild, without compressing it again.

It lives in the store's state directory, `DIR/.ndx/derived/layers/<key>/` (see
docs/store.md), one entry per layer:

    layer.json   {"diff_id", "digest", "size", "media_type"} — written last: an entry
                 without it is incomplete and never read
    blob         the compressed (or plain) layer, absent for entries that only record
                 the diff ID of an uncompressed layer (what a streamed image needs)
    sources      the store paths the layer was made from, one per line: the garbage
                 collector removes the entry once one of them is no longer valid

The key is the sha256 of everything that decides the bytes: the store paths with their NAR
hashes (so a path rebuilt with other contents gets a new entry), the owner, the
compression and its level, and the layer format's version. An entry is made in a
temporary directory and renamed into place, under a lock on its key so concurrent builds
make it once; builds hold the store's GC lock shared, the collector holds it exclusive,
so an entry is never collected while a build uses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from ndx.stdlib.store.locks import PathLock

from .image_format import canonical_json
from .image_model import Layer

#: Bump when the bytes `write_layer` produces for the same entries change.
LAYER_FORMAT = 1
#: Where the cache lives under the store's state directory.
CACHE_SUBDIR = os.path.join("derived", "layers")


@dataclass(frozen=True)
class CachedLayer:
    """A cache entry: the layer and, unless it only records a diff ID, its blob file."""

    layer: Layer
    blob: str | None
    hit: bool


def layer_key(paths: Sequence[tuple[str, str]], *, uid: int, gid: int,
              compression: str | None, level: int | None, kind: str = "blob") -> str:
    """The cache key of the layer holding `paths` ((store path, NAR hash) pairs)."""
    material = {"format": LAYER_FORMAT, "kind": kind, "paths": sorted(map(list, paths)),
                "uid": uid, "gid": gid, "compression": compression, "level": level}
    return hashlib.sha256(canonical_json(material)).hexdigest()


class LayerCache:
    """The cache in directory `root` (normally `<state dir>/derived/layers`)."""

    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(root, exist_ok=True)

    @classmethod
    def for_store(cls, state_dir: str) -> LayerCache:
        """The cache of the store whose state directory is `state_dir`."""
        return cls(os.path.join(state_dir, CACHE_SUBDIR))

    def lookup(self, key: str) -> CachedLayer | None:
        """The complete entry `key`, or None."""
        entry = os.path.join(self.root, key)
        try:
            with open(os.path.join(entry, "layer.json")) as f:
                raw = json.load(f)
            layer = Layer(raw["diff_id"], raw["digest"], int(raw["size"]), raw["media_type"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        blob = os.path.join(entry, "blob")
        if raw.get("blob", True):
            try:
                if os.path.getsize(blob) != layer.size:
                    return None
            except OSError:
                return None
            return CachedLayer(layer, blob, True)
        return CachedLayer(layer, None, True)

    def get_or_make(self, key: str, sources: Sequence[str],
                    make: Callable[[IO[bytes] | None], Layer], *, keep_blob: bool = True
                    ) -> CachedLayer:
        """The entry `key`, made by `make(out)` if missing. `make` writes the blob to `out`
        (None when `keep_blob` is false: it only computes the layer) and returns it."""
        found = self.lookup(key)
        if found is not None:
            return found
        lock = PathLock(os.path.join(self.root, key + ".lock"))
        lock.acquire()
        try:
            found = self.lookup(key)
            if found is not None:
                return found
            staging = os.path.join(self.root, f".tmp-{key}-{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            os.mkdir(staging)
            try:
                if keep_blob:
                    with open(os.path.join(staging, "blob"), "wb") as out:
                        layer = make(out)
                else:
                    layer = make(None)
                with open(os.path.join(staging, "sources"), "w") as f:
                    f.write("".join(p + "\n" for p in sorted(sources)))
                record = {"diff_id": layer.diff_id, "digest": layer.digest,
                          "size": layer.size, "media_type": layer.media_type,
                          "blob": keep_blob}
                with open(os.path.join(staging, "layer.json"), "wb") as f:
                    f.write(canonical_json(record))
                target = os.path.join(self.root, key)
                shutil.rmtree(target, ignore_errors=True)  # an incomplete leftover
                os.rename(staging, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        finally:
            lock.release(delete=True)
        made = self.lookup(key)
        assert made is not None
        return CachedLayer(made.layer, made.blob, False)
