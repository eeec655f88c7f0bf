"""HTTP for the registry client: one request at a time over `http.client`, with TLS
options, redirects, and retries with exponential backoff on 429 and 5xx (honouring
`Retry-After`) and on dropped connections.

Only the standard library: `http.client` for streaming bodies both ways, `ssl` for
certificate checks. A request body is bytes or a callable that opens a fresh stream, so
a retried upload starts from its beginning.
"""

from __future__ import annotations

import email.utils
import http.client
import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from .credentials import redact
from .errors import TLSError, TransportError

# Statuses worth another try: rate limiting and the server's own failures.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# The longest `Retry-After` we honour, in seconds: beyond it, waiting is not worth it.
MAX_RETRY_AFTER = 120.0
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# A request body: bytes, or a callable returning (stream, length) afresh for each try.
Body = bytes | Callable[[], tuple[BinaryIO, int]] | None


@dataclass
class TransportOptions:
    """How to talk HTTP. `insecure_hosts` may use plain HTTP or unverified TLS;
    `ca_file` adds trusted CAs (SSL_CERT_FILE is honoured too); `sleep` is injectable so
    tests can observe the backoff without waiting."""

    ca_file: str | None = None
    insecure_hosts: frozenset[str] = frozenset()
    retries: int = 5
    backoff: float = 0.5
    max_backoff: float = 20.0
    timeout: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    user_agent: str = "ndx-registry/0.1"


class Response:
    """A streamed HTTP response; read the body with `read`/`body`, then `close`."""

    def __init__(self, conn: http.client.HTTPConnection, raw: http.client.HTTPResponse,
                 url: str) -> None:
        self._conn = conn
        self.raw = raw
        self.status = raw.status
        self.reason = raw.reason
        self.headers = raw.headers
        self.url = url

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def read(self, n: int = -1) -> bytes:
        return self.raw.read(n)

    def body(self, limit: int = 8 << 20) -> bytes:
        """The whole body, refusing more than `limit` bytes (manifests, errors, tokens)."""
        data = self.raw.read(limit + 1)
        self.close()
        if len(data) > limit:
            raise TransportError(f"response from {self.url} is larger than {limit} bytes")
        return data

    def close(self) -> None:
        self.raw.close()
        self._conn.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """The delay a `Retry-After` header asks for (seconds or an HTTP date), if any."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Transport:
    """Sends requests; see the module docstring."""

    def __init__(self, options: TransportOptions | None = None) -> None:
        self.options = options or TransportOptions()
        self._contexts: dict[bool, ssl.SSLContext] = {}

    def _context(self, verify: bool) -> ssl.SSLContext:
        if verify not in self._contexts:
            if verify:
                ctx = ssl.create_default_context(cafile=self.options.ca_file)
                if self.options.ca_file:
                    ctx.load_default_certs()
            else:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self._contexts[verify] = ctx
        return self._contexts[verify]

    def _connect(self, url: urllib.parse.SplitResult) -> http.client.HTTPConnection:
        host = url.hostname or ""
        timeout = self.options.timeout
        if url.scheme == "https":
            verify = url.netloc not in self.options.insecure_hosts
            return http.client.HTTPSConnection(host, url.port, timeout=timeout,
                                               context=self._context(verify))
        if url.scheme == "http":
            return http.client.HTTPConnection(host, url.port, timeout=timeout)
        raise TransportError(f"unsupported URL scheme in {url.geturl()}")

    def _once(self, method: str, url: str, headers: Mapping[str, str],
              body: Body) -> Response:
        parts = urllib.parse.urlsplit(url)
        conn = self._connect(parts)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        send_headers = {"User-Agent": self.options.user_agent, **headers}
        stream: BinaryIO | None = None
        try:
            if callable(body):
                stream, length = body()
                send_headers["Content-Length"] = str(length)
                conn.request(method, path, body=stream, headers=send_headers)
            else:
                if body is not None or method in ("PUT", "POST", "PATCH"):
                    send_headers.setdefault("Content-Length", str(len(body or b"")))
                conn.request(method, path, body=body, headers=send_headers)
            raw = conn.getresponse()
        except BaseException:
            conn.close()
            raise
        finally:
            if stream is not None:
                stream.close()
        return Response(conn, raw, url)

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                body: Body = None, follow_redirects: bool = True,
                what: str | None = None) -> Response:
        """Send a request, retrying transient failures and following redirects (the
        `Authorization` header is not carried to another host). `what` names the
        operation in error messages."""
        headers = dict(headers or {})
        what = what or f"{method} {_display(url)}"
        for _ in range(MAX_REDIRECTS + 1):
            response = self._with_retries(method, url, headers, body, what)
            if not (follow_redirects and response.status in REDIRECT_STATUSES):
                return response
            location = response.header("Location")
            response.close()
            if not location:
                raise TransportError(f"{what}: redirect without a Location")
            target = urllib.parse.urljoin(url, location)
            if urllib.parse.urlsplit(target).netloc != urllib.parse.urlsplit(url).netloc:
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if response.status == 303:
                method, body = "GET", None
            url = target
        raise TransportError(f"{what}: more than {MAX_REDIRECTS} redirects")

    def _with_retries(self, method: str, url: str, headers: Mapping[str, str], body: Body,
                      what: str) -> Response:
        opts = self.options
        host = urllib.parse.urlsplit(url).netloc
        last = ""
        for attempt in range(opts.retries + 1):
            delay = min(opts.max_backoff, opts.backoff * (2 ** attempt))
            try:
                response = self._once(method, url, headers, body)
            except ssl.SSLCertVerificationError as exc:
                raise TLSError(
                    f"the TLS certificate of {host} is not trusted: {exc.verify_message}",
                    hint="trust its CA with --ca-file FILE or SSL_CERT_FILE=FILE; for a test "
                         f"registry only, tlsVerify = false or --insecure-registry {host}",
                ) from None
            except ssl.SSLError as exc:
                if _looks_like_plain_http(exc):
                    raise TLSError(
                        f"{host} does not speak TLS (a plain-HTTP registry?)",
                        hint=f"plain HTTP is used only when asked: tlsVerify = false or "
                             f"--insecure-registry {host}") from None
                last = f"TLS error: {exc.reason or exc}"
            except (ConnectionRefusedError, socket.gaierror) as exc:
                raise TransportError(f"cannot reach {host}: {_reason(exc)}") from None
            except (OSError, http.client.HTTPException) as exc:
                last = f"connection failed: {_reason(exc)}"
            else:
                if response.status not in RETRY_STATUSES:
                    return response
                last = f"HTTP {response.status} {response.reason}"
                asked = retry_after_seconds(response.header("Retry-After"))
                if asked is not None:
                    delay = min(asked, MAX_RETRY_AFTER)
                if attempt == opts.retries:
                    detail = _error_detail(response)
                    raise TransportError(
                        f"{what}: {host} answered {last}{detail}; gave up after "
                        f"{attempt + 1} attempts")
                response.close()
            if attempt < opts.retries:
                opts.sleep(delay)
        raise TransportError(f"{what}: {redact(last)}; gave up after {opts.retries + 1} attempts")


def _looks_like_plain_http(exc: ssl.SSLError) -> bool:
    text = f"{exc.reason} {exc}".upper()
    return any(s in text for s in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE",
                                   "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST"))


def _reason(exc: BaseException) -> str:
    return redact(str(exc) or type(exc).__name__)


def _display(url: str) -> str:
    """A URL for messages: no query string (it may carry upload state or tokens)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _error_detail(response: Response) -> str:
    """The registry's own error message, if the body has one, as ` (message)`."""
    from .errors_body import registry_errors

    try:
        text = registry_errors(response.body(64 << 10))
    except (TransportError, OSError, http.client.HTTPException):
        return ""
    return f" ({redact(text)})" if text else ""
