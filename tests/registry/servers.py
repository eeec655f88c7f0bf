"""Services the registry tests run: the real CNCF distribution registry (`docker-registry
serve`) in its plain, token-auth, htpasswd and TLS set-ups; a small token server; and a
fault-injecting HTTP proxy that sits in front of a registry."""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import re
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt

from .pki import ServerTLS, TokenSigner


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not start: {log.read_text()[-2000:]}")


@dataclass
class Registry:
    """A running `docker-registry serve`; `host` is 127.0.0.1:PORT."""

    directory: Path
    port: int
    proc: subprocess.Popen[bytes]
    tls: ServerTLS | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_registry(directory: Path, *, auth: dict[str, object] | None = None,
                   tls: ServerTLS | None = None) -> Registry:
    """Start the distribution registry storing under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    http_conf: dict[str, object] = {"addr": f"127.0.0.1:{port}", "secret": "ndx-test-secret"}
    if tls:
        http_conf["tls"] = {"certificate": str(tls.cert), "key": str(tls.key)}
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(directory / "data")},
                    "delete": {"enabled": True}},
        "http": http_conf,
    }
    if auth:
        config["auth"] = auth
    conf = directory / "config.yml"
    conf.write_text(json.dumps(config))  # JSON is YAML
    log = directory / "registry.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["docker-registry", "serve", str(conf)], stdout=out,
                                stderr=subprocess.STDOUT)
    _wait_listening(port, proc, log)
    return Registry(directory, port, proc, tls)


def write_htpasswd(path: Path, users: dict[str, str]) -> None:
    lines = [f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=5)).decode()}"
             for u, p in users.items()]
    path.write_text("\n".join(lines) + "\n")


class _Quiet(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up mid-response is part of the tests


@dataclass
class TokenServer:
    """Issues bearer tokens: `users` get the actions they ask for; anonymous callers get
    pull on repositories starting with `public/` only. Every request is logged (path and
    headers) so tests can check nothing secret reaches the wrong place."""

    signer: TokenSigner
    service: str
    users: dict[str, str]
    port: int = 0
    requests: list[dict[str, object]] = field(default_factory=list)
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def start(self) -> TokenServer:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parts.query)
                outer.requests.append({"path": self.path, "headers": dict(self.headers)})
                user = None
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    if outer.users.get(name) != password:
                        self.send_response(401)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    user = name
                access = []
                for scope in query.get("scope", []):
                    for one in scope.split(" "):
                        kind, name, actions = one.split(":")
                        allowed = actions.split(",") if user else (
                            ["pull"] if name.startswith("public/") else [])
                        access.append({"type": kind, "name": name,
                                       "actions": [a for a in actions.split(",")
                                                   if a in allowed]})
                token = outer.signer.token(user or "", outer.service, access)
                body = json.dumps({"token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = _Quiet(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class Fault:
    """One fault: requests whose method and path match get `action` for `times` hits.

    `action`: "status" (answer `status`, with `retry_after` if set), "truncate" (send the
    headers, `after` bytes of the body, then hang up), "corrupt" (flip a byte of the body),
    "short" (send only `after` bytes but claim that is the whole body)."""

    path: str
    action: str
    method: str = "GET"
    times: int = 1_000_000
    status: int = 500
    retry_after: str | None = None
    after: int = 100
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.times > self.hits and method == self.method
                and re.search(self.path, path) is not None)


class FaultProxy:
    """A reverse proxy in front of a registry that injects `faults`; the Host header is
    passed through, so the registry's absolute Location URLs point back at the proxy."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, int]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                fault = next((f for f in outer.faults if f.matches(self.command, self.path)),
                             None)
                if fault:
                    fault.hits += 1
                if fault and fault.action == "status":
                    outer.log.append((self.command, self.path, fault.status))
                    self.send_response(fault.status)
                    if fault.retry_after is not None:
                        self.send_header("Retry-After", fault.retry_after)
                    payload = json.dumps({"errors": [{"code": "UNAVAILABLE",
                                                      "message": "injected fault"}]}).encode()
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                    self.close_connection = True
                    return
                conn = http.client.HTTPConnection("127.0.0.1", outer.upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "content-length")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                outer.log.append((self.command, self.path, resp.status))
                send = data
                declared = len(data)
                if fault and fault.action == "corrupt" and data:
                    flipped = bytearray(data)
                    flipped[len(flipped) // 2] ^= 0xFF
                    send = bytes(flipped)
                elif fault and fault.action in ("truncate", "short"):
                    send = data[: fault.after]
                    if fault.action == "short":
                        declared = len(send)
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(declared))
                if fault and fault.action == "truncate":
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(send)
                if fault and fault.action == "truncate":
                    self.wfile.flush()
                    self.close_connection = True

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

        self._server = _Quiet(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()
        self.log.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def wait_for_https(host: str, ca: Path) -> None:
    ctx = ssl.create_default_context(cafile=str(ca))
    hostname, port = host.split(":")
    for _ in range(100):
        try:
            with socket.create_connection((hostname, int(port)), timeout=1) as s:
                with ctx.wrap_socket(s, server_hostname=hostname):
                    return
        except OSError:
            time.sleep(0.05)


Cleanup = Callable[[], None]
