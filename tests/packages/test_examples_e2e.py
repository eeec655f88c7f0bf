"""The examples end to end: `ndx-build` builds the redis images from source (fetched from
the offline source mirror by hash, compiled in the sandbox), a real Docker engine loads
them, and the containers answer PING, report their redis version and run as redis.

Slow (redis twice, busybox once: a few minutes on two cores); everything happens in a
temporary store and a private dockerd.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ndx.stdlib.store.disk import DiskStore
from tests.builds import Built, NdxBuilds, image_files, uid_of
from tests.engines import DockerEngine
from tests.redis_checks import check_redis

ROOT = Path(__file__).resolve().parents[2]
GENERIC = str(ROOT / "examples" / "redis-generic.ndx")
CLASSIC = str(ROOT / "examples" / "redis.ndx")
HELLO = str(ROOT / "examples" / "hello.ndx")

# Names that must not be in an image: compilers, build tools, GNU coreutils.
BUILD_TOOLS = {"gcc", "cc", "c++", "g++", "musl-gcc", "ld", "as", "make", "ar", "strip",
               "coreutils", "perl", "python3"}
BUILD_TOOL_PACKAGES = ("gcc", "binutils", "make", "coreutils", "glibc", "musl-tools")


def check_serving(docker: DockerEngine, built: Built, tag: str, version: str) -> None:
    loaded = docker.load(built.path)
    assert f"Loaded image: {tag}" in loaded
    check_redis(docker.docker, tag, version, uid=uid_of(built.path, "redis"))
    assert uid_of(built.path, "redis") != 0


def store_items(files: dict) -> set[str]:
    """The `<hash>-<name>` store entries an image's files lie in."""
    return {p.split("/")[2] for p in files if p.startswith("ndx/store/") and p.count("/") >= 2}


def check_no_build_tools(built: Built) -> None:
    files = image_files(built.path)
    names = {os.path.basename(p) for p in files}
    assert not names & BUILD_TOOLS, sorted(names & BUILD_TOOLS)
    for item in store_items(files):
        name = item.split("-", 1)[1]
        assert not name.startswith(BUILD_TOOL_PACKAGES), item


@pytest.mark.parametrize("attr,version", [("redisDocker_7_0_15", "7.0.15"),
                                          ("redisDocker_6_0_16", "6.0.16")])
def test_generic_images_serve_as_the_redis_user(
        ndx_builds: NdxBuilds, dockerd: DockerEngine, attr: str, version: str) -> None:
    built = ndx_builds.build(GENERIC, "-A", attr)
    check_serving(dockerd, built, f"redis:{version}", version)
    check_no_build_tools(built)


@pytest.mark.parametrize("attr,tag", [("redis", "redis:latest"),
                                      ("redisNoShell", "redis-noshell:latest")])
def test_classic_images_serve_as_the_redis_user(
        ndx_builds: NdxBuilds, dockerd: DockerEngine, attr: str, tag: str) -> None:
    # The entrypoint variant is started as root and drops to redis itself.
    built = ndx_builds.build(CLASSIC, "-A", attr)
    check_serving(dockerd, built, tag, "7.0.15")
    check_no_build_tools(built)
    files = image_files(built.path)
    shells = {p for p in files if os.path.basename(p) in ("sh", "bash", "ash")}
    if attr == "redisNoShell":
        assert shells == set()
    else:
        assert shells, "the entrypoint variant needs busybox's sh"
    assert files["data"].uid == uid_of(built.path, "redis")


def test_hello_example_runs_and_holds_only_hello(
        ndx_builds: NdxBuilds, dockerd: DockerEngine) -> None:
    built = ndx_builds.build(HELLO)
    assert "Loaded image: hello:latest" in dockerd.load(built.path)
    assert dockerd.run("hello:latest").strip() == "Hello from ndx!"
    items = store_items(image_files(built.path))
    assert [item.split("-", 1)[1] for item in items] == ["hello-1.0"]
    check_no_build_tools(built)


def derivation_closure(store: DiskStore, drv_path: str) -> set[str]:
    seen: set[str] = set()
    todo = [drv_path]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(store.read_derivation(path).input_drvs)
    return seen


def test_a_version_override_rebuilds_only_redis_and_the_image(ndx_builds: NdxBuilds) -> None:
    old = ndx_builds.build(GENERIC, "-A", "redisDocker_7_0_15")
    new = ndx_builds.build(GENERIC, "-A", "redisDocker_6_0_16")
    with DiskStore(str(ndx_builds.store)) as disk:
        (old_drv, _), = disk.derivers(old.logical)
        (new_drv, _), = disk.derivers(new.logical)
        only_new = derivation_closure(disk, new_drv) - derivation_closure(disk, old_drv)
    names = sorted(p.split("-", 1)[1] for p in only_new)
    assert names == ["docker-image-redis.tar.drv", "redis-6.0.16.drv",
                     "redis-6.0.16.tar.gz.drv"]


def test_images_are_small(ndx_builds: NdxBuilds) -> None:
    for file, attr in [(GENERIC, "redisDocker_7_0_15"), (CLASSIC, "redis")]:
        built = ndx_builds.build(file, "-A", attr)
        size = sum(i.size for i in image_files(built.path).values())
        assert size < 8 * 1024 * 1024, f"{attr}: {size} bytes of files"


def test_the_example_script_builds_the_redis_image(ndx_builds: NdxBuilds) -> None:
    # `./dev.sh example` runs it with the default store; here it gets the test store.
    link = ndx_builds.links / "example-result"
    result = subprocess.run(
        ["sh", str(ROOT / "scripts" / "example.sh"), "--store", str(ndx_builds.store),
         "-o", str(link)],
        check=False, env=ndx_builds.env, capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stderr[-5000:]
    assert "docker load < result" in result.stdout
    files = image_files(link.resolve())
    assert any(p.endswith("-redis-7.0.15/bin/redis-server") for p in files)
