"""The sandbox: a builder sees only its inputs, its outputs, /build, /proc and a minimal
/dev; it has no network unless it is a fixed-output derivation; host trees appear only
when named in `__impureHostDeps`; it works unprivileged too."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading

import pytest
from .helpers import with_logical_store
from ndx.evaluator.io import FixedOutput
from ndx.lang.errors import NdxError
from ndx.stdlib.build import sandbox
from ndx.stdlib.build.options import BuildOptions
from ndx.stdlib.store import hostdeps
from ndx.stdlib.store.errors import BuildError, SandboxUnavailableError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def output(store, drv) -> str:
    store.build([drv.drv_path])
    with open(store.real_path(drv.outputs["out"])) as file:
        return file.read()


def test_only_inputs_and_basics_are_visible(store, make, busybox) -> None:
    lib = make("lib", "echo lib > $out")
    probe = make("probe", "{ ls -a /; echo --; ls /ndx/store; echo --; ls /dev; echo --; "
                 "ls /etc; } > $TMPDIR/seen; cp $TMPDIR/seen $out", deps=(lib,))
    root, store_dir, dev, etc = output(store, probe).split("--\n")
    assert root.split() == [".", "..", "build", "dev", "etc", "ndx", "proc"]
    assert sorted(store_dir.split()) == sorted(
        p.rsplit("/", 1)[1] for p in (busybox, lib.outputs["out"]))
    assert {"null", "zero", "urandom", "random", "tty", "shm", "pts"} <= set(dev.split())
    assert "sda" not in dev and "kmsg" not in dev
    assert etc.split() == ["group", "hosts", "passwd"]


def test_identity_namespaces_and_read_only_inputs(store, make, busybox) -> None:
    lib = make("lib", "echo lib > $out")
    probe = make("probe", textwrap.dedent("""\
        { id -u; id -g; hostname; ls /proc | grep -c '^[0-9]' ;
          touch $dep0 2>/dev/null && echo input-writable || echo input-read-only;
          touch /x 2>/dev/null && echo root-writable || echo root-read-only;
          touch /build/x && echo build-writable;
          test -e /usr && echo has-usr || echo no-usr; } > $out"""), deps=(lib,))
    lines = output(store, probe).split()
    assert lines[:3] == ["1000", "100", "localhost"]
    assert int(lines[3]) <= 4            # our own few processes: a fresh PID namespace
    assert lines[4:] == ["input-read-only", "root-read-only", "build-writable", "no-usr"]


@pytest.fixture
def tcp_server():
    """A host TCP server on 127.0.0.1 answering every connection with a fixed reply."""
    reply = b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(4096)
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def test_network_only_for_fixed_output_derivations(store, make, tcp_server) -> None:
    url = f"http://127.0.0.1:{tcp_server}/"
    closed = make("offline", f"wget -q -O - {url} > $out 2>&1 || true")
    assert output(store, closed) == "wget: can't connect to remote host (127.0.0.1): " \
        "Connection refused\n"
    digest = hashlib.sha256(b"hello\n").digest()
    fetch = make("online", f"wget -q -O $out {url}",
                 fixed=FixedOutput("sha256", digest, False))
    assert output(store, fetch) == "hello\n"


def test_impure_host_deps_are_mounted_read_only(store, make) -> None:
    drv = make("host", "", builder="/bin/sh",
               args=("-c", ("gcc --version | head -1 > $out; touch /usr/x 2>/dev/null "
                            "&& echo usr-writable >> $out || true")),
               env={"__impureHostDeps": "/usr /bin /lib /lib64", "PATH": "/usr/bin:/bin"})
    text = output(store, drv)
    assert text.startswith("gcc") and "usr-writable" not in text


def test_host_fingerprint_follows_the_dpkg_database(tmp_path, monkeypatch) -> None:
    status = tmp_path / "status"
    status.write_text("Package: gcc\nVersion: 1\n")
    monkeypatch.setattr(hostdeps, "DPKG_STATUS", str(status))
    hostdeps.host_fingerprint.cache_clear()
    first = hostdeps.host_fingerprint(("/usr",))
    assert hostdeps.host_fingerprint(("/usr",)) == first
    assert hostdeps.host_fingerprint(("/usr", "/bin")) != first
    status.write_text("Package: gcc\nVersion: 2\n")
    hostdeps.host_fingerprint.cache_clear()
    assert hostdeps.host_fingerprint(("/usr",)) != first
    hostdeps.host_fingerprint.cache_clear()


def test_host_fingerprint_without_dpkg_lists_the_trees(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(hostdeps, "DPKG_STATUS", str(tmp_path / "absent"))
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "cc").write_text("v1")
    hostdeps.host_fingerprint.cache_clear()
    first = hostdeps.host_fingerprint((str(tools),))
    (tools / "cc").write_text("version 2")
    hostdeps.host_fingerprint.cache_clear()
    assert hostdeps.host_fingerprint((str(tools),)) != first
    hostdeps.host_fingerprint.cache_clear()


def test_missing_bubblewrap_names_the_package(monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailableError, match="install the 'bubblewrap' package"):
        sandbox.bwrap_path()


def test_no_sandbox_needs_the_logical_store_location(store, make) -> None:
    drv = make("plain", "echo > $out")
    with pytest.raises(NdxError, match="--no-sandbox builds need the store at .*/ndx/store"):
        store.build([drv.drv_path], BuildOptions(sandbox=False))


def test_no_sandbox_builds_where_the_store_is_logical(tmp_path, busybox_tree) -> None:
    """Run a --no-sandbox build in a private mount namespace whose /ndx/store is a
    temporary directory (never the machine's real /ndx/store)."""
    script = tmp_path / "nosandbox.py"
    script.write_text(textwrap.dedent(f"""\
        from ndx.evaluator.io import Derivation
        from ndx.stdlib.build.options import BuildOptions
        from ndx.stdlib.store.disk import DiskStore
        store = DiskStore("/ndx/store", sandbox=False)
        bb = store.add_path({busybox_tree!r}, name="busybox")
        drv = store.instantiate(Derivation("plain", "x86_64-linux", bb + "/bin/sh",
            ("-c", "echo $TMPDIR > $out; test -e /usr && echo host-visible >> $out"),
            {{"name": "plain", "builder": bb + "/bin/sh", "system": "x86_64-linux"}},
            input_srcs=frozenset([bb])))
        store.build([drv.drv_path])
        print(open(drv.outputs["out"]).read(), end="")
        print(store.verify(check_contents=True).problems)
    """))
    fake = tmp_path / "fake-ndx-store"
    fake.mkdir()
    cmd = with_logical_store(str(fake), [sys.executable, str(script)])
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(str(fake) + "/.ndx/tmp/") or lines[0].startswith("/ndx/store/")
    assert lines[1:] == ["host-visible", "[]"]


def _unprivileged_python(home: str) -> tuple[list[str], dict[str, str]]:
    """A command running this checkout's ndx as user nobody: the system interpreter with
    a path that maps `ndx.*` onto the source folders (the venv lives under /root)."""
    shim = os.path.join(home, "pkgs", "ndx")
    os.makedirs(shim)
    for folder in ("lang", "evaluator", "stdlib", "grammar", "cli"):
        os.symlink(os.path.join(ROOT, folder), os.path.join(shim, folder))
    site = next(p for p in sys.path if p.endswith("site-packages"))
    env = {"HOME": home, "PATH": "/usr/bin:/bin",
           "PYTHONPATH": f"{os.path.dirname(shim)}:{site}", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
           "/usr/bin/python3", "-c"]
    return cmd, env


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root; "
                    "when not root this whole suite already runs unprivileged")
def test_unprivileged_build_in_a_user_namespace(busybox_tree) -> None:
    home = tempfile.mkdtemp(prefix="ndx-unpriv-")
    try:
        os.chmod(home, 0o755)
        tree = os.path.join(home, "busybox")
        shutil.copytree(busybox_tree, tree, symlinks=True)
        cmd, env = _unprivileged_python(home)
        for dirpath, _dirs, _files in os.walk(home):
            os.chown(dirpath, 65534, 65534)
        program = textwrap.dedent(f"""\
            import os
            from ndx.evaluator.io import Derivation
            from ndx.stdlib.store.disk import DiskStore, default_store_dir
            print(default_store_dir())
            store = DiskStore()
            bb = store.add_path({tree!r}, name="busybox")
            drv = store.instantiate(Derivation("u", "x86_64-linux", bb + "/bin/sh",
                ("-c", "id -u > $out"), {{"name": "u", "builder": bb + "/bin/sh",
                "system": "x86_64-linux", "PATH": bb + "/bin"}}, input_srcs=frozenset([bb])))
            store.build([drv.drv_path])
            print(open(store.real_path(drv.outputs["out"])).read(), end="")
            print(os.stat(store.real_path(drv.outputs["out"])).st_uid)
        """)
        run = subprocess.run(cmd + [program], capture_output=True, text=True, env=env,
                             check=False)
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines() == [f"{home}/.local/share/ndx/store", "1000", "65534"]
    finally:
        subprocess.run(["chmod", "-R", "u+w", home], check=False)
        shutil.rmtree(home)


def test_a_failing_sandbox_setup_is_a_build_error(store, make) -> None:
    drv = make("nobuilder", "", builder="/nonexistent/sh", args=())
    with pytest.raises(BuildError, match="failed with exit code"):
        store.build([drv.drv_path])


def test_bubblewrap_without_namespaces_says_what_to_do(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: str(fake))
    sandbox.check_sandbox.cache_clear()
    try:
        with pytest.raises(SandboxUnavailableError) as info:
            sandbox.check_sandbox()
    finally:
        sandbox.check_sandbox.cache_clear()
    message = str(info.value)
    assert "No permissions to create new namespace" in message
    assert "unprivileged_userns_clone" in message and "--no-sandbox" in message
