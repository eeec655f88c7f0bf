"""The examples end to end: `ndx-build` builds the redis images from source (fetched from
the offline source mirror by hash, compiled in the sandbox), a real Docker engine loads
them, and the containers answer PING, report their redis version and run as redis.

Slow (redis twice, busybox once: a few minutes on two cores); everything happens in a
temporary store and a private dockerd.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ndx.stdlib.store.disk import DiskStore

from tests.engines import DockerEngine, start_dockerd

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GENERIC = ROOT / "examples" / "redis-generic.ndx"
CLASSIC = ROOT / "examples" / "redis.ndx"

# Names that must not be in an image: compilers, build tools, GNU coreutils.
BUILD_TOOLS = {"gcc", "cc", "c++", "g++", "musl-gcc", "ld", "as", "make", "ar", "strip",
               "coreutils", "perl", "python3"}
BUILD_TOOL_PACKAGES = ("gcc", "binutils", "make", "coreutils", "glibc", "musl-tools")


class Built:
    """An image built by ndx-build into the test store."""

    def __init__(self, store: Path, link: Path, logical: str) -> None:
        self.store = store
        self.link = link
        self.logical = logical

    @property
    def archive(self) -> Path:
        return self.link.resolve()


@pytest.fixture(scope="module")
def store(ndx_store: Path) -> Path:
    return ndx_store


@pytest.fixture(scope="module")
def links(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("results")


@pytest.fixture(scope="module")
def docker() -> Iterator[DockerEngine]:
    engine = start_dockerd()
    try:
        yield engine
    finally:
        engine.stop()


_built: dict[tuple[str, str], Built] = {}


def ndx_build(store: Path, links: Path, env: dict[str, str], file: Path, attr: str) -> Built:
    """`ndx-build FILE -A ATTR` into the test store (once per file and attribute)."""
    key = (str(file), attr)
    if key not in _built:
        link = links / f"{file.stem}-{attr}"
        result = subprocess.run(
            [str(BIN / "ndx-build"), str(file), "-A", attr, "--store", str(store),
             "-o", str(link), "--cores", "2"],
            check=False, env=env, capture_output=True, text=True, timeout=3600)
        assert result.returncode == 0, result.stderr[-5000:]
        logical = result.stdout.strip().splitlines()[-1]
        assert logical.startswith("/ndx/store/") and logical.endswith(".tar")
        _built[key] = Built(store, link, logical)
    return _built[key]


def image_files(archive: Path) -> dict[str, tarfile.TarInfo]:
    """Every entry of every layer of a docker-archive, by path (later layers win)."""
    files: dict[str, tarfile.TarInfo] = {}
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for layer in manifest[0]["Layers"]:
            data = outer.extractfile(layer).read()  # type: ignore[union-attr]
            with tarfile.open(fileobj=io.BytesIO(data)) as inner:
                for info in inner.getmembers():
                    files[info.name.rstrip("/")] = info
    return files


def image_text(archive: Path, path: str) -> str:
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        text = None
        for layer in manifest[0]["Layers"]:
            data = outer.extractfile(layer).read()  # type: ignore[union-attr]
            with tarfile.open(fileobj=io.BytesIO(data)) as inner:
                try:
                    member = inner.extractfile(path)
                except KeyError:
                    continue
                if member is not None:
                    text = member.read().decode()
    assert text is not None, f"{path} is not in the image"
    return text


def uid_of(archive: Path, user: str) -> int:
    for line in image_text(archive, "etc/passwd").splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2])
    raise AssertionError(f"no user {user} in the image's /etc/passwd")


def serve(docker: DockerEngine, tag: str) -> str:
    """Start the image (as docker does by default: no --user) and wait for PONG."""
    cid = docker.docker("run", "-d", "--network", "none", tag).stdout.decode().strip()
    for _ in range(100):
        reply = docker.docker("exec", cid, "redis-cli", "ping", check=False)
        if reply.stdout.strip() == b"PONG":
            return cid
        if docker.docker("inspect", "-f", "{{.State.Running}}", cid).stdout.strip() != b"true":
            break
        time.sleep(0.2)
    logs = docker.docker("logs", cid, check=False)
    raise AssertionError(f"{tag} never answered PONG: {reply.stdout!r} {reply.stderr!r}\n"
                         f"{logs.stdout.decode()}{logs.stderr.decode()}")


def server_uid(docker: DockerEngine, cid: str) -> int:
    """The real uid of the container's main process, as the kernel sees it."""
    pid = docker.docker("inspect", "-f", "{{.State.Pid}}", cid).stdout.decode().strip()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


def check_serving(docker: DockerEngine, built: Built, tag: str, version: str) -> None:
    loaded = docker.load(built.archive)
    assert f"Loaded image: {tag}" in loaded
    cid = serve(docker, tag)
    try:
        info = docker.docker("exec", cid, "redis-cli", "info", "server").stdout.decode()
        assert f"redis_version:{version}\r\n" in info
        assert server_uid(docker, cid) == uid_of(built.archive, "redis") != 0
    finally:
        docker.docker("rm", "-f", cid, check=False)


def check_no_build_tools(built: Built) -> None:
    files = image_files(built.archive)
    names = {os.path.basename(p) for p in files}
    assert not names & BUILD_TOOLS, sorted(names & BUILD_TOOLS)
    store_paths = {p.split("/")[2] for p in files if p.startswith("ndx/store/") and p.count("/") >= 2}
    for item in store_paths:
        name = item.split("-", 1)[1]
        assert not name.startswith(BUILD_TOOL_PACKAGES), item


@pytest.mark.parametrize("attr,version", [("redisDocker_7_0_15", "7.0.15"),
                                          ("redisDocker_6_0_16", "6.0.16")])
def test_generic_images_serve_as_the_redis_user(
        store: Path, links: Path, build_env: dict[str, str], docker: DockerEngine,
        attr: str, version: str) -> None:
    built = ndx_build(store, links, build_env, GENERIC, attr)
    check_serving(docker, built, f"redis:{version}", version)
    check_no_build_tools(built)


@pytest.mark.parametrize("attr,tag", [("redis", "redis:latest"),
                                      ("redisNoShell", "redis-noshell:latest")])
def test_classic_images_serve_as_the_redis_user(
        store: Path, links: Path, build_env: dict[str, str], docker: DockerEngine,
        attr: str, tag: str) -> None:
    # The entrypoint variant is started as root and drops to redis itself.
    built = ndx_build(store, links, build_env, CLASSIC, attr)
    check_serving(docker, built, tag, "7.0.15")
    check_no_build_tools(built)
    files = image_files(built.archive)
    shells = {p for p in files if os.path.basename(p) in ("sh", "bash", "ash")}
    if attr == "redisNoShell":
        assert shells == set()
    else:
        assert shells, "the entrypoint variant needs busybox's sh"
    assert files["data"].uid == uid_of(built.archive, "redis")


def derivation_closure(store: DiskStore, drv_path: str) -> set[str]:
    seen: set[str] = set()
    todo = [drv_path]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(store.read_derivation(path).input_drvs)
    return seen


def test_a_version_override_rebuilds_only_redis_and_the_image(
        store: Path, links: Path, build_env: dict[str, str]) -> None:
    old = ndx_build(store, links, build_env, GENERIC, "redisDocker_7_0_15")
    new = ndx_build(store, links, build_env, GENERIC, "redisDocker_6_0_16")
    with DiskStore(str(store)) as disk:
        (old_drv, _), = disk.derivers(old.logical)
        (new_drv, _), = disk.derivers(new.logical)
        only_new = derivation_closure(disk, new_drv) - derivation_closure(disk, old_drv)
    names = sorted(p.split("-", 1)[1] for p in only_new)
    assert names == ["docker-image-redis.tar.drv", "redis-6.0.16.drv",
                     "redis-6.0.16.tar.gz.drv"]


def test_images_are_small(store: Path, links: Path, build_env: dict[str, str]) -> None:
    for file, attr in [(GENERIC, "redisDocker_7_0_15"), (CLASSIC, "redis")]:
        built = ndx_build(store, links, build_env, file, attr)
        size = sum(i.size for i in image_files(built.archive).values())
        assert size < 8 * 1024 * 1024, f"{attr}: {size} bytes of files"


def test_the_example_script_builds_the_redis_image(
        store: Path, links: Path, build_env: dict[str, str]) -> None:
    # `./dev.sh example` runs it with the default store; here it gets the test store.
    link = links / "example-result"
    result = subprocess.run(
        ["sh", str(ROOT / "scripts" / "example.sh"), "--store", str(store), "-o", str(link)],
        check=False, env=build_env, capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stderr[-5000:]
    assert "docker load < result" in result.stdout
    files = image_files(link.resolve())
    assert any(p.endswith("-redis-7.0.15/bin/redis-server") for p in files)
