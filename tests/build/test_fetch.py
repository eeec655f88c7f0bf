"""`builtin:fetchurl`: fixed-output downloads from file:// and http:// URLs and hashed
mirrors, with retry and resume; a wrong hash stores nothing and says both hashes."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ndx.evaluator.io import Derivation, FixedOutput
from ndx.stdlib.store.encoding import nix_base32, sri
from ndx.stdlib.store.errors import BuildError, HashMismatchError
from ndx.stdlib.store.nar import hash_path

PAYLOAD = b"".join(b"line %d of the source\n" % i for i in range(20000))


class Server:
    """A local HTTP server: `files` by path; `drop_after` bytes makes the first response
    of a file end early (the client must resume with a Range request)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.drop_after: int | None = None
        self.fail_first: int = 0
        self.fail_after_drop = False   # after a dropped response, answer 503 to everything
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Range")))
                if server.fail_after_drop and server.drop_after is None:
                    self.send_error(503)
                    return
                if server.fail_first:
                    server.fail_first -= 1
                    self.send_error(503)
                    return
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].rstrip("-"))
                    self.send_response(206)
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.drop_after is not None and start == 0:
                    self.wfile.write(body[:server.drop_after])
                    server.drop_after = None
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.close()


def fetchurl(store, url: str, data_hash: bytes, *, name: str = "src.tar.gz",
             recursive: bool = False, algo: str = "sha256", **env: str):
    attrs = {"name": name, "system": "builtin", "builder": "builtin:fetchurl",
             "url": url, "outputHashAlgo": algo,
             "outputHashMode": "recursive" if recursive else "flat", **env}
    return store.instantiate(Derivation(name, "builtin", "builtin:fetchurl", (), attrs,
                                        fixed=FixedOutput(algo, data_hash, recursive)))


def read_bytes(store, path: str) -> bytes:
    with open(store.real_path(path), "rb") as file:
        return file.read()


def test_file_url(store, tmp_path, recorder) -> None:
    src = tmp_path / "src.tar.gz"
    src.write_bytes(PAYLOAD)
    drv = fetchurl(store, src.as_uri(), hashlib.sha256(PAYLOAD).digest())
    store.build([drv.drv_path], reporter=recorder)
    assert read_bytes(store, drv.outputs["out"]) == PAYLOAD
    assert recorder.bytes == len(PAYLOAD)
    assert store.path_info(drv.outputs["out"]).ca.startswith("fixed:sha256:")


def test_http_url_with_sha1_and_sha512(store, server) -> None:
    server.files["/a"] = PAYLOAD
    for algo in ("sha1", "sha512"):
        drv = fetchurl(store, server.url + "/a", hashlib.new(algo, PAYLOAD).digest(),
                       algo=algo, name=f"a-{algo}")
        store.build([drv.drv_path])
        assert read_bytes(store, drv.outputs["out"]) == PAYLOAD


def test_hash_mismatch_reports_both_hashes_and_stores_nothing(store, server) -> None:
    server.files["/a"] = PAYLOAD
    wrong = hashlib.sha256(b"something else").digest()
    drv = fetchurl(store, server.url + "/a", wrong)
    with pytest.raises(HashMismatchError) as info:
        store.build([drv.drv_path])
    actual = hashlib.sha256(PAYLOAD).digest()
    message = str(info.value)
    for text in (sri("sha256", wrong), nix_base32(wrong), sri("sha256", actual),
                 nix_base32(actual)):
        assert text in message
    assert "specified:" in message and "got:" in message
    assert not store.is_valid(drv.outputs["out"])
    assert not os.path.lexists(store.real_path(drv.outputs["out"]))
    assert os.listdir(os.path.join(store.state_dir, "tmp")) == []


def test_interrupted_download_resumes(store, server) -> None:
    server.files["/big"] = PAYLOAD
    server.drop_after = 100000
    drv = fetchurl(store, server.url + "/big", hashlib.sha256(PAYLOAD).digest())
    store.build([drv.drv_path])
    assert read_bytes(store, drv.outputs["out"]) == PAYLOAD
    assert server.requests == [("/big", None), ("/big", "bytes=100000-")]


def test_server_errors_are_retried(store, server) -> None:
    server.files["/flaky"] = PAYLOAD
    server.fail_first = 1
    drv = fetchurl(store, server.url + "/flaky", hashlib.sha256(PAYLOAD).digest())
    store.build([drv.drv_path])
    assert [path for path, _ in server.requests] == ["/flaky", "/flaky"]


def test_urls_are_tried_in_order(store, server) -> None:
    server.files["/second"] = PAYLOAD
    drv = fetchurl(store, "", hashlib.sha256(PAYLOAD).digest(),
                   urls=f"{server.url}/missing {server.url}/second")
    store.build([drv.drv_path])
    assert [p for p, _ in server.requests] == ["/missing", "/second"]


def test_unreachable_source_fails_clearly(store) -> None:
    drv = fetchurl(store, "http://127.0.0.1:9/nothing-listens-here", bytes(32))
    with pytest.raises(BuildError, match="cannot download 'src.tar.gz'.*tried:"):
        store.build([drv.drv_path])


def test_hashed_mirror_is_tried_first(store, server, tmp_path, monkeypatch) -> None:
    digest = hashlib.sha256(PAYLOAD).digest()
    mirror = tmp_path / "mirror" / "sha256"
    mirror.mkdir(parents=True)
    (mirror / digest.hex()).write_bytes(PAYLOAD)
    monkeypatch.setenv("NDX_HASHED_MIRRORS", f"{server.url}/m {(tmp_path / 'mirror').as_uri()}")
    drv = fetchurl(store, "http://127.0.0.1:9/offline", digest)
    store.build([drv.drv_path])
    assert read_bytes(store, drv.outputs["out"]) == PAYLOAD
    assert server.requests == [(f"/m/sha256/{digest.hex()}", None)]


def test_bad_mirror_content_is_skipped(store, server, tmp_path, monkeypatch) -> None:
    digest = hashlib.sha256(PAYLOAD).digest()
    server.files[f"/m/sha256/{digest.hex()}"] = b"poisoned"
    server.files["/real"] = PAYLOAD
    monkeypatch.setenv("NDX_HASHED_MIRRORS", f"{server.url}/m")
    drv = fetchurl(store, server.url + "/real", digest)
    store.build([drv.drv_path])
    assert read_bytes(store, drv.outputs["out"]) == PAYLOAD


def test_unpack_and_executable(store, server, tmp_path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("pkg-1.0/README")
        info.size = 6
        tar.addfile(info, io.BytesIO(b"hello\n"))
    server.files["/pkg.tar.gz"] = gzip.compress(raw.getvalue())
    expected = tmp_path / "expected"
    expected.mkdir()
    (expected / "README").write_bytes(b"hello\n")
    drv = fetchurl(store, server.url + "/pkg.tar.gz", hash_path(str(expected))[0],
                   recursive=True, name="pkg", unpack="1")
    store.build([drv.drv_path])
    assert read_bytes(store, drv.outputs["out"] + "/README") == b"hello\n"

    server.files["/tool"] = b"#!/bin/sh\n"
    script = tmp_path / "tool"
    script.write_bytes(b"#!/bin/sh\n")
    script.chmod(0o755)
    exe = fetchurl(store, server.url + "/tool", hash_path(str(script))[0], recursive=True,
                   name="tool", executable="1")
    store.build([exe.drv_path])
    assert os.access(store.real_path(exe.outputs["out"]), os.X_OK)


def test_fixed_output_paths_ignore_the_url(store, tmp_path) -> None:
    src = tmp_path / "f"
    src.write_bytes(PAYLOAD)
    digest = hashlib.sha256(PAYLOAD).digest()
    one = fetchurl(store, src.as_uri(), digest)
    store.build([one.drv_path])
    two = fetchurl(store, "http://127.0.0.1:9/elsewhere", digest)
    assert two.outputs == one.outputs
    assert store.build([two.drv_path]).built == []


def test_download_resumes_in_the_next_run(store, server) -> None:
    server.files["/big"] = PAYLOAD
    server.drop_after = 100000
    server.fail_after_drop = True
    drv = fetchurl(store, server.url + "/big", hashlib.sha256(PAYLOAD).digest())
    with pytest.raises(BuildError, match="cannot download"):
        store.build([drv.drv_path])
    server.fail_after_drop = False
    server.requests.clear()
    store.build([drv.drv_path])
    assert read_bytes(store, drv.outputs["out"]) == PAYLOAD
    assert server.requests == [("/big", "bytes=100000-")]
    assert os.listdir(os.path.join(store.state_dir, "downloads")) == []
