"""Shared pytest options and the session fixtures several areas use: one private Docker
engine and one podman, and ndx-build into one temporary store (so redis is built once
per run whichever folder needs it first)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builds import NdxBuilds, build_environment
from tests.engines import DockerEngine, Podman, make_podman, start_dockerd

#: Registries a session's dockerd may reach over plain HTTP: the tests' own, on loopback.
LOCAL_REGISTRIES = "127.0.0.0/8"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite the expected output of golden tests (tests/golden/) from the "
             "current behaviour instead of comparing against it")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites golden files (`pytest --update-golden`)."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def dockerd() -> Iterator[DockerEngine]:
    """A private Docker engine for the whole session (never skipped: a missing engine
    fails), which pulls from the tests' registries on 127.0.0.1 over plain HTTP."""
    engine = start_dockerd(["--insecure-registry", LOCAL_REGISTRIES])
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def podman() -> Iterator[Podman]:
    """podman with private vfs storage for the whole session."""
    instance = make_podman()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="session")
def build_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of ndx-build: the source mirror filled and offered by hash, private
    caches and no user credentials."""
    return build_environment(tmp_path_factory.mktemp("build-env"))


@pytest.fixture(scope="session")
def ndx_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store of the end-to-end builds (never /ndx/store): temporary, or the directory
    `$NDX_TEST_STORE` names, kept between runs (to iterate on a test without rebuilding)."""
    kept = os.environ.get("NDX_TEST_STORE")
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
        return Path(kept)
    return tmp_path_factory.mktemp("ndx-store")


@pytest.fixture(scope="session")
def ndx_builds(ndx_store: Path, build_env: dict[str, str],
               tmp_path_factory: pytest.TempPathFactory) -> NdxBuilds:
    """`ndx_builds.build(FILE, "-A", attr)`: ndx-build into the session store, each
    distinct command once."""
    return NdxBuilds(ndx_store, tmp_path_factory.mktemp("results"), build_env)
