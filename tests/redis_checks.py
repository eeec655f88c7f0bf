"""Checking a redis image in a real engine (a private dockerd or podman, tests/engines.py):
the server answers PING with PONG, reports its version, and runs as the expected user.

The functions take the engine's command (`DockerEngine.docker` or `Podman.podman`), whose
`run`, `exec`, `inspect`, `logs` and `rm` subcommands are the same."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

Cli = Callable[..., "subprocess.CompletedProcess[bytes]"]

#: How many times to ask for PONG (0.2 s apart) before the test fails.
PING_ATTEMPTS = 150


def start_redis(cli: Cli, image: str, *options: str) -> str:
    """Start `image` detached without a network (as `docker run` does by default: no
    --user) and wait until redis answers PING; returns the container id."""
    cid = cli("run", "-d", "--network", "none", *options, image).stdout.decode().strip()
    reply = None
    for _ in range(PING_ATTEMPTS):
        reply = cli("exec", cid, "redis-cli", "ping", check=False)
        if reply.stdout.strip() == b"PONG":
            return cid
        if cli("inspect", "-f", "{{.State.Running}}", cid).stdout.strip() != b"true":
            break
        time.sleep(0.2)
    logs = cli("logs", cid, check=False)
    cli("rm", "-f", cid, check=False)
    raise AssertionError(f"{image} never answered PONG: {reply and reply.stdout!r} "
                         f"{reply and reply.stderr!r}\n{logs.stdout.decode()}"
                         f"{logs.stderr.decode()}")


def server_uid(cli: Cli, cid: str) -> int:
    """The real uid of the container's main process, as the kernel sees it."""
    pid = cli("inspect", "-f", "{{.State.Pid}}", cid).stdout.decode().strip()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


def check_redis(cli: Cli, image: str, version: str, *, uid: int | None = None,
                options: tuple[str, ...] = ()) -> str:
    """Run `image`: PONG, `INFO server` showing `version`, the server's uid `uid` (when
    given); returns the INFO text. The container is removed afterwards."""
    cid = start_redis(cli, image, *options)
    try:
        info = cli("exec", cid, "redis-cli", "info", "server").stdout.decode()
        assert f"redis_version:{version}\r\n" in info, info
        if uid is not None:
            assert server_uid(cli, cid) == uid
        return info
    finally:
        cli("rm", "-f", cid, check=False)
