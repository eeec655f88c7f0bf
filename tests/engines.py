"""Real container engines for tests: a private dockerd, podman and skopeo.

Importable from any test folder (`from tests.engines import start_dockerd`). Every engine
lives in its own temporary directory with its own socket, data root and state, and is
stopped and removed afterwards; nothing touches the machine's default engine.

On this machine dockerd only runs with the vfs storage driver, without iptables or a
bridge, and with rlimits it is allowed to set; containers then run with `--network none`
(`DockerEngine.run` adds it). A missing engine is an error, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: The flags this machine needs for dockerd to start at all.
DOCKERD_FLAGS = ("--storage-driver", "vfs", "--iptables=false", "--bridge=none",
                 "--default-ulimit", "nofile=1024:1024", "--default-ulimit", "nproc=1024:1024")
#: How long an engine may take to come up before the test fails.
START_TIMEOUT = 90.0


class EngineError(RuntimeError):
    """An engine is missing or could not be started (a test failure, not a skip)."""


def _require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise EngineError(f"{program} is not installed: run ./dev.sh setup "
                          "(scripts/setup.sh installs the engines)")
    return path


@dataclass
class DockerEngine:
    """A running private dockerd; `docker(…)` runs the CLI against it."""

    base: Path
    process: subprocess.Popen[bytes]
    socket: Path
    log: Path

    @property
    def host(self) -> str:
        """The DOCKER_HOST value for this daemon."""
        return f"unix://{self.socket}"

    def env(self) -> dict[str, str]:
        """An environment for docker CLI commands aimed at this daemon."""
        env = dict(os.environ)
        env["DOCKER_HOST"] = self.host
        env["DOCKER_CONFIG"] = str(self.base / "client")
        return env

    def docker(self, *args: str, input: bytes | None = None, check: bool = True,
               timeout: float = 600) -> subprocess.CompletedProcess[bytes]:
        """Run `docker ARGS…` against this daemon (output captured)."""
        proc = subprocess.run([_require("docker"), *args], input=input, env=self.env(),
                              capture_output=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise EngineError(f"docker {' '.join(args)} failed ({proc.returncode}):\n"
                              f"{proc.stderr.decode(errors='replace')}")
        return proc

    def load(self, archive: str | Path) -> str:
        """`docker load < archive`; returns docker's "Loaded image: …" output."""
        with open(archive, "rb") as f:
            return self.docker("load", input=f.read()).stdout.decode()

    def run(self, image: str, *args: str, options: Sequence[str] = ()) -> str:
        """`docker run --rm --network none [options] image args…`; returns stdout."""
        return self.docker("run", "--rm", "--network", "none", *options, image,
                           *args).stdout.decode()

    def stop(self) -> None:
        """Stop the daemon and remove everything it stored."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        _unmount_below(self.base)
        shutil.rmtree(self.base, ignore_errors=True)


def start_dockerd(extra_flags: Sequence[str] = (), *, base: str | None = None) -> DockerEngine:
    """Start a private dockerd (data root, exec root, socket, pid file and config all in a
    fresh temporary directory) with `extra_flags` added (e.g. `--insecure-registry
    127.0.0.1:5000`), and wait until it answers."""
    dockerd = _require("dockerd")
    _require("docker")
    # Unix socket paths are limited to 108 bytes: keep the directory short.
    root = Path(tempfile.mkdtemp(prefix="ndxd-", dir=base or "/tmp"))
    (root / "client").mkdir()
    (root / "daemon.json").write_text("{}")
    log = root / "dockerd.log"
    socket = root / "d.sock"
    cmd = [dockerd, *DOCKERD_FLAGS, "--data-root", str(root / "data"),
           "--exec-root", str(root / "x"), "-H", f"unix://{socket}",
           "--pidfile", str(root / "d.pid"), "--config-file", str(root / "daemon.json"),
           *extra_flags]
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    engine = DockerEngine(root, process, socket, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            text = log.read_text(errors="replace")[-3000:]
            shutil.rmtree(root, ignore_errors=True)
            raise EngineError(f"dockerd exited with {process.returncode}:\n{text}")
        if socket.exists() and engine.docker("version", check=False, timeout=30).returncode == 0:
            return engine
        if time.monotonic() > deadline:
            engine.stop()
            raise EngineError(f"dockerd did not answer within {START_TIMEOUT:.0f} s")
        time.sleep(0.3)


@dataclass
class Podman:
    """podman with private storage (vfs), run root and configuration."""

    base: Path
    env: dict[str, str] = field(default_factory=dict)

    def podman(self, *args: str, check: bool = True,
               timeout: float = 600) -> subprocess.CompletedProcess[bytes]:
        """Run `podman ARGS…` with this instance's storage."""
        cmd = [_require("podman"), "--root", str(self.base / "root"),
               "--runroot", str(self.base / "run"), "--tmpdir", str(self.base / "tmp"),
               "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
               "--events-backend", "file", *args]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, timeout=timeout,
                              check=False)
        if check and proc.returncode != 0:
            raise EngineError(f"podman {' '.join(args)} failed ({proc.returncode}):\n"
                              f"{proc.stderr.decode(errors='replace')}")
        return proc

    def load(self, archive: str | Path) -> str:
        """`podman load -i archive`; returns its output."""
        return self.podman("load", "-i", str(archive)).stdout.decode()

    def run(self, image: str, *args: str, options: Sequence[str] = ()) -> str:
        """`podman run --rm --network none [options] image args…`; returns stdout."""
        return self.podman("run", "--rm", "--network", "none", *options, image,
                           *args).stdout.decode()

    def stop(self) -> None:
        """Remove everything this instance stored."""
        self.podman("rm", "--all", "--force", check=False)
        _unmount_below(self.base)
        shutil.rmtree(self.base, ignore_errors=True)


def make_podman(*, base: str | None = None) -> Podman:
    """A podman with its own storage and a containers.conf suited to this machine (runc,
    lowered default ulimits, cgroupfs, file events)."""
    _require("podman")
    root = Path(tempfile.mkdtemp(prefix="ndxp-", dir=base or "/tmp"))
    conf = root / "containers.conf"
    conf.write_text('[containers]\n'
                    'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
                    'netns = "none"\n'
                    '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n'
                    'events_logger = "file"\n')
    storage = root / "storage.conf"
    storage.write_text(f'[storage]\ndriver = "vfs"\nrunroot = "{root}/run"\n'
                       f'graphroot = "{root}/root"\n')
    env = dict(os.environ)
    env.update({"CONTAINERS_CONF": str(conf), "CONTAINERS_STORAGE_CONF": str(storage),
                "XDG_RUNTIME_DIR": str(root / "xdg"), "HOME": str(root / "home")})
    for sub in ("xdg", "home", "tmp"):
        (root / sub).mkdir()
    return Podman(root, env)


def skopeo(*args: str) -> str:
    """Run `skopeo ARGS…` and return its output (skopeo needs no daemon)."""
    proc = subprocess.run([_require("skopeo"), *args], capture_output=True, check=False)
    if proc.returncode != 0:
        raise EngineError(f"skopeo {' '.join(args)} failed:\n"
                          f"{proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode()


def skopeo_inspect(transport_ref: str, *, config: bool = False,
                   tls_verify: bool = True) -> dict[str, object]:
    """`skopeo inspect [--config] [--tls-verify=false] REF` as JSON."""
    out = skopeo("inspect", *(["--config"] if config else []),
                 *([] if tls_verify else ["--tls-verify=false"]), transport_ref)
    value: dict[str, object] = json.loads(out)
    return value


def _unmount_below(path: Path) -> None:
    """Unmount whatever an engine left mounted under `path` (deepest first)."""
    prefix = str(path.resolve()) + "/"
    try:
        with open("/proc/self/mounts") as f:
            points = [line.split()[1] for line in f]
    except OSError:
        return
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
