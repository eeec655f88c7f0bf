"""Downloading a file: `file://`, `http://` and `https://` URLs, tried in order after the
hashed mirrors, each retried with resumption of what already arrived.

Hashed mirrors (`NDX_HASHED_MIRRORS`, space-separated `file://` or `http(s)://` bases)
serve content by hash, `<base>/<algo>/<hex digest>`, so builds of fixed-output
derivations work offline and in air-gapped CI: a mirror that has the file wins.
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

CHUNK = 1 << 16
ATTEMPTS = 3
TIMEOUT = 30
USER_AGENT = "ndx/0.1"


class DownloadError(Exception):
    """No source could deliver the file (the message lists each attempt)."""


@dataclass
class Progress:
    """Callbacks a download reports through."""

    log: Callable[[str], None] = lambda line: None
    fetched: Callable[[int], None] = lambda n: None
    check_cancel: Callable[[], None] = lambda: None


class _Missing(DownloadError):
    """The source does not have the file (no point retrying)."""


def hashed_mirror_urls(algo: str, digest: bytes) -> list[str]:
    """The hashed-mirror URLs for content with this hash, from `NDX_HASHED_MIRRORS`."""
    return [f"{base.rstrip('/')}/{algo}/{digest.hex()}"
            for base in os.environ.get("NDX_HASHED_MIRRORS", "").split()]


def fetch_to(url: str, dest: str, progress: Progress) -> None:
    """Download `url` into `dest`, retrying and resuming; raises DownloadError, or
    _Missing-derived DownloadError when the source lacks the file."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme == "file" or scheme == "":
        _copy_file(url, dest, progress)
        return
    if scheme not in ("http", "https"):
        raise DownloadError(f"unsupported URL scheme '{scheme}:' in '{url}'")
    last = ""
    for attempt in range(1, ATTEMPTS + 1):
        progress.check_cancel()
        try:
            _http_get(url, dest, progress)
            return
        except _Missing:
            raise
        except (OSError, urllib.error.URLError) as exc:
            last = _reason(exc)
            if attempt < ATTEMPTS:
                delay = 0.25 * 2 ** attempt
                progress.log(f"download of '{url}' failed ({last}); retrying in {delay:g}s")
                time.sleep(delay)
    raise DownloadError(last)


def _copy_file(url: str, dest: str, progress: Progress) -> None:
    path = urllib.request.url2pathname(urllib.parse.urlsplit(url).path) if "://" in url else url
    if not os.path.isfile(path):
        raise _Missing("no such file")
    with open(path, "rb") as src, open(dest, "wb") as out:
        while chunk := src.read(1 << 20):
            progress.check_cancel()
            out.write(chunk)
            progress.fetched(len(chunk))


def _http_get(url: str, dest: str, progress: Progress) -> None:
    have = os.path.getsize(dest) if os.path.exists(dest) else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            os.unlink(dest)   # our partial file does not fit the server's; start over
            raise OSError("range not satisfiable, restarting") from None
        if exc.code in (404, 410):
            raise _Missing(f"HTTP {exc.code}") from None
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise _Missing(f"HTTP {exc.code} {exc.reason}") from None
        raise
    with response:
        resumed = response.status == 206
        if have and resumed:
            progress.log(f"resuming '{url}' at byte {have}")
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        received = 0
        with open(dest, "ab" if resumed else "wb") as out:
            while True:
                progress.check_cancel()
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
                progress.fetched(len(chunk))
        if expected is not None and received < expected:
            raise OSError(f"connection closed after {received} of {expected} bytes")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def download(urls: list[str], dest: str, progress: Progress,
             accept: Callable[[str], str | None] = lambda path: None,
             partial: str | None = None) -> str:
    """Fetch the first of `urls` that delivers into `dest` and return that URL.
    `accept(file)` may reject a delivered file (returning why), e.g. for a wrong hash;
    the next source is then tried. `partial` is where bytes are collected: a file that
    outlives a failed run (the content is fixed by its hash, so any source may continue
    it). Raises DownloadError listing every failure."""
    failures = []
    part = partial or dest + ".part"
    for url in urls:
        try:
            progress.log(f"downloading '{url}'")
            fetch_to(url, part, progress)
        except DownloadError as exc:
            failures.append(f"{url}: {exc}")
            if isinstance(exc, _Missing) or partial is None:
                _remove(part)
            continue
        problem = accept(part)
        if problem is not None:
            progress.log(f"'{url}' {problem}")
            failures.append(f"{url}: {problem}")
            _remove(part)
            continue
        shutil.move(part, dest)
        return url
    raise DownloadError("\n".join(f"  {f}" for f in failures) or "  (no URLs given)")


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass

