"""A client for one registry speaking the Docker Registry HTTP API v2 / OCI distribution
spec: manifests, blobs (download with verification and resumption, existence checks,
cross-repository mounts, monolithic and chunked uploads), authentication and retries.

    client = RegistryClient("127.0.0.1:5000", ClientOptions(insecure=True))
    manifest = client.get_manifest("library/redis", "7")
    client.fetch_blob("library/redis", digest, Path("layer"), size=n)
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

from .auth import Authenticator, repository_scope
from .credentials import Credentials, lookup_credentials, redact
from .digest import check_digest, hasher, sha256_bytes
from .errors import (
    AuthError,
    DigestMismatchError,
    ManifestError,
    NotFoundError,
    RegistryError,
    TLSError,
    TransportError,
)
from .errors_body import error_codes, registry_errors
from .mediatypes import MANIFEST_ACCEPT
from .progress import Progress
from .transport import Body, Response, Transport, TransportOptions

# Manifests are small; anything larger is refused rather than held in memory.
MAX_MANIFEST_BYTES = 4 << 20
# Blobs up to this size are uploaded in one request; larger ones in chunks of CHUNK_SIZE.
MONOLITHIC_LIMIT = 64 << 20
CHUNK_SIZE = 16 << 20
_READ = 1 << 20


@dataclass
class ClientOptions:
    """How to reach registries. `insecure` (tlsVerify = false) allows plain HTTP and
    unverified TLS for the registry being contacted; `insecure_hosts` does so for the
    listed HOST:PORTs only. `credentials`, when given, replaces the auth-file lookup."""

    insecure: bool = False
    insecure_hosts: frozenset[str] = frozenset()
    ca_file: str | None = None
    auth_file: str | None = None
    credentials: Credentials | None = field(default=None, repr=False)
    progress: bool | None = None
    retries: int = 5
    backoff: float = 0.5
    sleep: Callable[[float], None] | None = None


@dataclass(frozen=True)
class Manifest:
    """A manifest as fetched: its exact bytes (digests are over them), media type and
    digest."""

    data: bytes
    media_type: str
    digest: str

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.data)
        except ValueError:
            raise ManifestError(f"manifest {self.digest} is not valid JSON") from None
        if not isinstance(value, dict):
            raise ManifestError(f"manifest {self.digest} is not a JSON object")
        return value


class RegistryClient:
    """Talks to the registry at `host` (HOST[:PORT], as in image references)."""

    def __init__(self, host: str, options: ClientOptions | None = None) -> None:
        self.options = options or ClientOptions()
        self.host = host
        insecure = set(self.options.insecure_hosts)
        if self.options.insecure:
            insecure.add(host)
        self.insecure = host in insecure
        topts = TransportOptions(ca_file=self.options.ca_file, insecure_hosts=frozenset(insecure),
                                 retries=self.options.retries, backoff=self.options.backoff)
        if self.options.sleep is not None:
            topts.sleep = self.options.sleep
        self.transport = Transport(topts)
        explicit = self.options.credentials
        auth_file = self.options.auth_file

        def lookup(h: str, repo: str | None) -> Credentials | None:
            if explicit is not None:
                return explicit
            return lookup_credentials(h, repo, auth_file=auth_file)

        self.auth = Authenticator(self.transport, lookup)
        self._base: str | None = None

    # -- plumbing ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`https://host` — or `http://host` for an insecure registry that has no TLS."""
        if self._base is None:
            self._base = f"https://{self.host}"
            if self.insecure:
                try:
                    self.transport.request("GET", f"{self._base}/v2/", what="probe").close()
                except TLSError:
                    self._base = f"http://{self.host}"
                except TransportError:
                    self._base = f"http://{self.host}"
        return self._base

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return urllib.parse.urljoin(self.base_url + "/", path_or_url.lstrip("/"))

    def request(self, method: str, path: str, *, repository: str | None,
                actions: str = "pull", extra_scopes: Iterable[str] = (),
                headers: Mapping[str, str] | None = None, body: Body = None,
                what: str, follow_redirects: bool = True) -> Response:
        """Send a request with authentication: answer a 401 challenge once, then report
        a refusal (401/403) as `AuthError`."""
        scopes = [repository_scope(repository, actions)] if repository else []
        scopes += list(extra_scopes)
        url = self._url(path)
        for attempt in range(2):
            send = dict(headers or {})
            if urllib.parse.urlsplit(url).netloc == self.host:
                send.update(self.auth.header(self.host, scopes, repository))
            response = self.transport.request(method, url, headers=send, body=body, what=what,
                                              follow_redirects=follow_redirects)
            if response.status == 401:
                challenge = response.header("WWW-Authenticate")
                response.close()
                if attempt == 0 and self.auth.answer(self.host, challenge, scopes, repository,
                                                     what):
                    continue
                raise self.auth.refused(self.host, repository, what)
            if response.status == 403:
                detail = registry_errors(response.body(64 << 10))
                err = self.auth.refused(self.host, repository, what)
                raise AuthError(err.message + (f" ({redact(detail)})" if detail else ""),
                                hint=err.hint)
            return response
        raise AssertionError("unreachable")

    def _unexpected(self, response: Response, what: str) -> RegistryError:
        detail = registry_errors(response.body(64 << 10))
        return TransportError(f"{what}: {self.host} answered HTTP {response.status} "
                              f"{response.reason}" + (f" ({redact(detail)})" if detail else ""))

    def _not_found(self, response: Response, repository: str, thing: str) -> NotFoundError:
        codes = error_codes(response.body(64 << 10))
        if "NAME_UNKNOWN" in codes:
            return NotFoundError(f"repository {repository} not found on {self.host}")
        return NotFoundError(f"{thing} not found in {repository} on {self.host}")

    def _explain_missing_manifest(self, repository: str, error: NotFoundError) -> NotFoundError:
        """Tell a missing repository from a missing tag (registries answer both with
        MANIFEST_UNKNOWN), naming some tags that do exist."""
        if error.message.startswith("repository "):
            return error
        try:
            tags = self.tags(repository)
        except NotFoundError:
            return NotFoundError(f"repository {repository} not found on {self.host}")
        except RegistryError:
            return error
        if tags:
            shown = ", ".join(sorted(tags)[:10]) + (", …" if len(tags) > 10 else "")
            return NotFoundError(error.message, hint=f"tags of {repository}: {shown}")
        return error

    # -- reading ----------------------------------------------------------------------

    def ping(self) -> None:
        """Check that the host speaks the v2 API (authentication aside)."""
        response = self.request("GET", "/v2/", repository=None, what=f"contacting {self.host}")
        if response.status != 200:
            raise self._unexpected(response, f"contacting {self.host}")
        response.close()

    def get_manifest(self, repository: str, reference: str,
                     accept: Iterable[str] = MANIFEST_ACCEPT) -> Manifest:
        """Fetch a manifest by tag or digest; a digest reference is verified."""
        what = f"fetching manifest {repository}:{reference}" if ":" not in reference else \
            f"fetching manifest {repository}@{reference}"
        response = self.request("GET", f"/v2/{repository}/manifests/{reference}",
                                repository=repository, what=what,
                                headers={"Accept": ", ".join(accept)})
        if response.status == 404:
            thing = f"manifest {reference}" if ":" in reference else f"tag {reference!r}"
            error = self._not_found(response, repository, thing)
            raise self._explain_missing_manifest(repository, error)
        if response.status != 200:
            raise self._unexpected(response, what)
        media_type = (response.header("Content-Type") or "").split(";")[0].strip()
        data = response.body(MAX_MANIFEST_BYTES)
        if ":" in reference:
            check_digest(reference)
            h = hasher(reference)
            h.update(data)
            actual = f"{reference.split(':')[0]}:{h.hexdigest()}"
            if actual != reference:
                raise DigestMismatchError(f"{what}: the registry sent a manifest with digest "
                                          f"{actual}, not the one asked for")
            digest = reference
        else:
            digest = sha256_bytes(data)
        try:
            declared = json.loads(data).get("mediaType")
        except (ValueError, AttributeError):
            raise ManifestError(f"{what}: the manifest is not valid JSON") from None
        if declared:
            media_type = declared
        return Manifest(data, media_type, digest)

    def blob_size(self, repository: str, digest: str) -> int | None:
        """The size of a blob the registry has, or None if it has none (HEAD)."""
        what = f"checking blob {digest[:19]} in {repository}"
        response = self.request("HEAD", f"/v2/{repository}/blobs/{digest}",
                                repository=repository, what=what)
        response.close()
        if response.status == 404:
            return None
        if response.status != 200:
            raise TransportError(f"{what}: {self.host} answered HTTP {response.status}")
        length = response.header("Content-Length")
        return int(length) if length and length.isdigit() else 0

    def get_blob_bytes(self, repository: str, digest: str, *, limit: int = 16 << 20) -> bytes:
        """A small blob (an image configuration) in memory, verified."""
        what = f"fetching blob {digest} from {repository}"
        response = self.request("GET", f"/v2/{repository}/blobs/{digest}",
                                repository=repository, what=what)
        if response.status == 404:
            raise self._not_found(response, repository, f"blob {digest}")
        if response.status != 200:
            raise self._unexpected(response, what)
        data = response.body(limit)
        h = hasher(digest)
        h.update(data)
        if f"{digest.split(':')[0]}:{h.hexdigest()}" != digest:
            raise DigestMismatchError(f"{what}: content does not match its digest "
                                      f"(corrupt or truncated)")
        return data

    def fetch_blob(self, repository: str, digest: str, dest: Path, *, size: int | None = None,
                   label: str | None = None) -> Path:
        """Download a blob to `dest`, streaming, verified against `digest` (and `size`).

        Bytes land in `dest.partial` first; a dropped connection resumes with a `Range`
        request (as does a later call after an interrupted one). Only verified content
        is renamed to `dest`; on a mismatch nothing is left behind."""
        check_digest(digest)
        what = f"downloading blob {digest} of {repository}"
        partial = dest.with_name(dest.name + ".partial")
        dest.parent.mkdir(parents=True, exist_ok=True)
        progress = Progress(label or digest[7:19], size, enabled=self.options.progress)
        h = hasher(digest)
        offset = 0
        if partial.exists():
            with open(partial, "rb") as f:
                while chunk := f.read(_READ):
                    h.update(chunk)
            offset = partial.stat().st_size
            if size is not None and offset > size:
                partial.unlink()
                h, offset = hasher(digest), 0
        progress.reset(offset)
        failures = 0
        while True:
            if size is not None and offset == size:
                break
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            response = self.request("GET", f"/v2/{repository}/blobs/{digest}",
                                    repository=repository, what=what, headers=headers)
            if response.status == 404:
                raise self._not_found(response, repository, f"blob {digest}")
            if response.status == 416 and offset:
                response.close()
                partial.unlink()
                h, offset = hasher(digest), 0
                continue
            if response.status == 200 and offset:
                # The server ignored Range: start again from the first byte.
                h, offset = hasher(digest), 0
                partial.unlink()
            elif response.status not in (200, 206):
                raise self._unexpected(response, what)
            complete = self._stream_into(response, partial, h, progress)
            offset = partial.stat().st_size
            if complete:
                break
            failures += 1
            if failures > self.options.retries:
                raise TransportError(f"{what}: the connection kept dropping "
                                     f"({offset} of {size if size is not None else '?'} bytes "
                                     f"received); gave up after {failures} attempts")
            self.transport.options.sleep(min(20.0, self.options.backoff * 2 ** failures))
        actual = f"{digest.split(':')[0]}:{h.hexdigest()}"
        if actual != digest or (size is not None and offset != size):
            partial.unlink(missing_ok=True)
            got = f"{offset} bytes with digest {actual}"
            raise DigestMismatchError(
                f"{what}: received {got}, expected {digest}"
                + (f" ({size} bytes)" if size is not None else "")
                + "; the blob is corrupt or truncated, nothing was stored")
        os.replace(partial, dest)
        progress.finish()
        return dest

    @staticmethod
    def _stream_into(response: Response, partial: Path, h: "hashlib._Hash",
                     progress: Progress) -> bool:
        """Append the body to `partial`; False if the connection dropped before the
        promised Content-Length arrived (http.client does not raise for that)."""
        length = response.header("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        received = 0
        try:
            with open(partial, "ab") as out:
                while True:
                    chunk = response.read(_READ)
                    if not chunk:
                        break
                    h.update(chunk)
                    out.write(chunk)
                    received += len(chunk)
                    progress.advance(len(chunk))
        except (http.client.HTTPException, ConnectionError, TimeoutError):
            # What did arrive is in the file already; the caller resumes from there.
            return False
        finally:
            response.close()
        return expected is None or received >= expected

    def tags(self, repository: str) -> list[str]:
        what = f"listing tags of {repository}"
        response = self.request("GET", f"/v2/{repository}/tags/list", repository=repository,
                                what=what)
        if response.status == 404:
            raise self._not_found(response, repository, "tag list")
        if response.status != 200:
            raise self._unexpected(response, what)
        data = json.loads(response.body())
        return list(data.get("tags") or [])

    # -- writing ----------------------------------------------------------------------

    def mount_blob(self, repository: str, digest: str, source_repository: str) -> bool:
        """Ask the registry to link a blob it holds in another repository; True if it did."""
        what = f"mounting blob {digest[:19]} from {source_repository} into {repository}"
        query = urllib.parse.urlencode({"mount": digest, "from": source_repository})
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/?{query}",
                                repository=repository, actions="pull,push",
                                extra_scopes=[repository_scope(source_repository, "pull")],
                                what=what)
        if response.status == 201:
            response.close()
            return True
        if response.status == 202:
            # Not mounted; cancel the upload session the registry opened instead.
            location = response.header("Location")
            response.close()
            if location:
                self.request("DELETE", location, repository=repository, actions="pull,push",
                             what=what).close()
            return False
        if response.status in (404, 405):
            response.close()
            return False
        raise self._unexpected(response, what)

    def _start_upload(self, repository: str, what: str) -> str:
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/",
                                repository=repository, actions="pull,push", what=what)
        if response.status not in (201, 202):
            if response.status == 404:
                raise self._not_found(response, repository, "upload endpoint")
            raise self._unexpected(response, what)
        location = response.header("Location")
        response.close()
        if not location:
            raise TransportError(f"{what}: {self.host} started an upload without a Location")
        return self._url(location)

    def upload_blob(self, repository: str, digest: str, opener: Callable[[], BinaryIO],
                    size: int, *, chunk_size: int | None = None, label: str | None = None
                    ) -> None:
        """Upload a blob read from `opener()`: one PUT up to MONOLITHIC_LIMIT (or when
        `chunk_size` is 0), else PATCHes of `chunk_size` bytes and a closing PUT."""
        what = f"uploading blob {digest} to {repository}"
        progress = Progress(label or digest[7:19], size, enabled=self.options.progress)
        location = self._start_upload(repository, what)
        if chunk_size is None:
            chunk_size = 0 if size <= MONOLITHIC_LIMIT else CHUNK_SIZE
        if chunk_size <= 0:
            final = _with_query(location, digest=digest)

            def whole() -> tuple[BinaryIO, int]:
                progress.reset(0)
                return cast(BinaryIO, _Counting(opener(), progress)), size

            response = self.request("PUT", final, repository=repository, actions="pull,push",
                                    headers={"Content-Type": "application/octet-stream"},
                                    body=whole, what=what)
        else:
            offset = 0
            while offset < size:
                n = min(chunk_size, size - offset)
                location, offset = self._patch_chunk(repository, location, opener, offset, n,
                                                     progress, what)
            response = self.request("PUT", _with_query(location, digest=digest),
                                    repository=repository, actions="pull,push", body=b"",
                                    headers={"Content-Type": "application/octet-stream"},
                                    what=what)
        if response.status not in (201, 204):
            if response.status == 400 and "DIGEST_INVALID" in error_codes(response.body()):
                raise DigestMismatchError(f"{what}: the registry computed a different digest "
                                          "for the uploaded content")
            raise self._unexpected(response, what)
        response.close()
        progress.finish("pushed")

    def _patch_chunk(self, repository: str, location: str, opener: Callable[[], BinaryIO],
                     offset: int, n: int, progress: Progress, what: str) -> tuple[str, int]:
        def chunk() -> tuple[BinaryIO, int]:
            stream = opener()
            stream.seek(offset)
            progress.reset(offset)
            return cast(BinaryIO, _Counting(_Limited(stream, n), progress)), n

        response = self.request("PATCH", location, repository=repository, actions="pull,push",
                                headers={"Content-Type": "application/octet-stream",
                                         "Content-Range": f"{offset}-{offset + n - 1}"},
                                body=chunk, what=what)
        if response.status == 416:
            # The registry has a different idea of how far we got: ask, and go on from there.
            response.close()
            status = self.request("GET", location, repository=repository, actions="pull,push",
                                  what=what)
            status.close()
            got = _range_end(status.header("Range"))
            return self._url(status.header("Location") or location), got
        if response.status != 202:
            raise self._unexpected(response, what)
        response.close()
        return (self._url(response.header("Location") or location),
                _range_end(response.header("Range"), offset + n))

    def put_manifest(self, repository: str, reference: str, data: bytes,
                     media_type: str) -> str:
        """Upload a manifest under a tag (or its digest); returns its digest."""
        what = f"pushing manifest {repository}:{reference}"
        response = self.request("PUT", f"/v2/{repository}/manifests/{reference}",
                                repository=repository, actions="pull,push",
                                headers={"Content-Type": media_type}, body=data, what=what)
        if response.status not in (200, 201, 202):
            raise self._unexpected(response, what)
        response.close()
        return sha256_bytes(data)


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query += list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _range_end(header: str | None, default: int = 0) -> int:
    """The next offset after a `Range: 0-<end>` upload status header."""
    if not header or "-" not in header:
        return default
    try:
        return int(header.rsplit("-", 1)[1]) + 1
    except ValueError:
        return default


class _Limited:
    """At most `n` bytes of a stream."""

    def __init__(self, stream: BinaryIO, n: int) -> None:
        self.stream, self.left = stream, n

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(size)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.stream.close()


class _Counting:
    """A stream that reports what is read from it to a `Progress`."""

    def __init__(self, stream: Any, progress: Progress) -> None:
        self.stream, self.progress = stream, progress

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.stream.read(size)
        self.progress.advance(len(data))
        return data

    def close(self) -> None:
        self.stream.close()
