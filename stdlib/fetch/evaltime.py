"""Fetching while evaluating (`builtins.fetchurl`, `fetchTarball`, `fetchTree` for files,
tarballs and paths): download now, put the result in the store, return its path.

With an expected hash the result's path is known before anything is downloaded, so a
valid path means no download at all (and flat files are looked up on the hashed
mirrors first). Without a hash the result is cached per URL for an hour
(`NDX_TARBALL_TTL` seconds), like Nix's `tarball-ttl`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ndx.evaluator.io import FixedOutput, StoreIO
from ndx.stdlib.store.errors import StoreError
from ndx.stdlib.store.fixed import content_hash, mismatch_message
from ndx.stdlib.store.nar import hash_path
from ndx.stdlib.store.paths import InvalidNameError, check_name, fixed_output_path

from .download import DownloadError, Progress, download, hashed_mirror_urls
from .errors import FetchError
from .unpack import UnpackError, unpack

DEFAULT_TTL = 3600


@contextmanager
def scratch_dir(store: StoreIO, label: str) -> Iterator[str]:
    """A temporary directory for a fetch: inside the disk store's state directory (same
    file system, cleaned after crashes), else in the system's temporary directory."""
    temp_dir = getattr(store, "temp_dir", None)
    if temp_dir is not None:
        with temp_dir(label) as path:
            yield path
        return
    path = tempfile.mkdtemp(prefix=f"ndx-{label}-")
    try:
        yield path
    finally:
        from ndx.stdlib.store.fsutil import remove_tree

        remove_tree(path)


def progress_for(store: StoreIO) -> Progress:
    """Report downloads through the store's reporter (set by `ndx-build`), if any."""
    reporter: Any = getattr(store, "reporter", None)
    if reporter is None:
        return Progress()
    return Progress(lambda line: reporter.message(line), reporter.fetched)


def url_name(url: str) -> str:
    """The default store name for a URL: its last path component."""
    path = urllib.parse.urlsplit(url).path.rstrip("/")
    return urllib.parse.unquote(path.rsplit("/", 1)[-1]) or "download"


def checked_name(name: str, what: str) -> str:
    try:
        return check_name(name)
    except InvalidNameError as exc:
        raise FetchError(f"{what}: {exc} (pass a 'name' argument)") from None


def _add(store: StoreIO, source: str, name: str, fixed: FixedOutput) -> str:
    """Add fetched content under its fixed-output path. Our stores check the hash
    themselves (`add_fixed`); any other StoreIO gets `add_path`, which yields the same
    path for sha256 content."""
    add_fixed = getattr(store, "add_fixed", None)
    try:
        if add_fixed is not None:
            return add_fixed(source, name, fixed)  # type: ignore[no-any-return]
        if fixed.algo != "sha256":
            raise FetchError(f"this store cannot hold {fixed.algo}-addressed content")
        return store.add_path(source, name=name, recursive=fixed.recursive)
    except StoreError as exc:
        raise FetchError(str(exc)) from None


def fetch_file(store: StoreIO, url: str, *, name: str | None = None,
               expected: tuple[str, bytes] | None = None, executable: bool = False,
               recursive: bool | None = None, what: str = "builtins.fetchurl") -> str:
    """Download `url` as one file into the store and return its store path. The file is
    hashed flat unless `recursive` (which `executable` implies), as a NAR."""
    name = checked_name(name or url_name(url), what)
    recursive = executable if recursive is None else recursive or executable
    if expected is not None:
        algo, digest = expected
        path = fixed_output_path(name, algo, digest, recursive)
        if store.is_valid(path):
            return path
    else:
        cached = _cache_get(store, f"file:{int(executable)}{int(recursive)}:{name}:{url}")
        if cached is not None:
            return cached
    with scratch_dir(store, "fetch") as tmp:
        target = os.path.join(tmp, "file")
        urls = [url]
        wrong: list[bytes] = []
        if expected is not None and not recursive:
            urls = hashed_mirror_urls(*expected) + urls

        def accept(part: str) -> str | None:
            if expected is None or recursive:
                return None
            actual = content_hash(part, expected[0], False)
            if actual == expected[1]:
                return None
            wrong.append(actual)
            return "delivered content with the wrong hash"

        try:
            _download(urls, target, store, accept, url, what)
        except FetchError:
            if wrong and expected is not None:
                raise FetchError(mismatch_message(f"file downloaded from '{url}'",
                                                  expected[0], expected[1],
                                                  wrong[-1])) from None
            raise
        if executable:
            os.chmod(target, 0o755)
        algo, digest = expected or ("sha256", content_hash(target, "sha256", recursive))
        if expected is not None and recursive:
            _verify(target, algo, digest, True, url)
        path = _add(store, target, name, FixedOutput(algo, digest, recursive))
    if expected is None:
        _cache_put(store, f"file:{int(executable)}{int(recursive)}:{name}:{url}", path)
    return path


def fetch_tarball(store: StoreIO, url: str, *, name: str = "source",
                  expected: tuple[str, bytes] | None = None,
                  what: str = "builtins.fetchTarball") -> str:
    """Download and unpack the archive at `url` into the store (a single top-level
    directory is stripped); `expected` is the hash of the unpacked tree's NAR."""
    name = checked_name(name, what)
    if expected is not None:
        path = fixed_output_path(name, expected[0], expected[1], True)
        if store.is_valid(path):
            return path
    else:
        cached = _cache_get(store, f"tarball:{name}:{url}")
        if cached is not None:
            return cached
    with scratch_dir(store, "fetch") as tmp:
        archive = os.path.join(tmp, "archive")
        _download([url], archive, store, lambda _p: None, url, what)
        tree = os.path.join(tmp, "unpacked")
        try:
            unpack(archive, tree)
        except UnpackError as exc:
            raise FetchError(f"{what}: {exc} (downloaded from '{url}')") from None
        if expected is not None:
            _verify(tree, expected[0], expected[1], True, url)
            algo, digest = expected
        else:
            algo, digest = "sha256", hash_path(tree)[0]
        path = _add(store, tree, name, FixedOutput(algo, digest, True))
    if expected is None:
        _cache_put(store, f"tarball:{name}:{url}", path)
    return path


def _download(urls: list[str], target: str, store: StoreIO, accept: Any, url: str,
              what: str) -> None:
    try:
        download(urls, target, progress_for(store), accept)
    except DownloadError as exc:
        raise FetchError(f"{what}: cannot download '{url}':\n{exc}") from None


def _verify(path: str, algo: str, digest: bytes, recursive: bool, url: str) -> None:
    actual = content_hash(path, algo, recursive)
    if actual != digest:
        raise FetchError(mismatch_message(f"content downloaded from '{url}'", algo, digest,
                                          actual))


# ---- the TTL cache of unhashed fetches (disk stores only) ----

def _cache_file(store: StoreIO) -> str | None:
    state = getattr(store, "state_dir", None)
    return os.path.join(state, "fetch-cache.json") if state else None


def _ttl() -> int:
    try:
        return int(os.environ.get("NDX_TARBALL_TTL", DEFAULT_TTL))
    except ValueError:
        return DEFAULT_TTL


def _cache_get(store: StoreIO, key: str) -> str | None:
    file = _cache_file(store)
    if file is None or not os.path.exists(file):
        return None
    try:
        with open(file) as stream:
            entry = json.load(stream).get(key)
    except (OSError, ValueError):
        return None
    if not entry or time.time() - entry["time"] > _ttl() or not store.is_valid(entry["path"]):
        return None
    return entry["path"]  # type: ignore[no-any-return]


def _cache_put(store: StoreIO, key: str, path: str) -> None:
    file = _cache_file(store)
    if file is None:
        return
    try:
        with open(file) as stream:
            cache = json.load(stream)
    except (OSError, ValueError):
        cache = {}
    cache[key] = {"path": path, "time": time.time()}
    tmp = f"{file}.{os.getpid()}"
    with open(tmp, "w") as stream:
        json.dump(cache, stream)
    shutil.move(tmp, file)
