"""Fixtures of the differential tests: a private HOME for Nix, so its caches and
settings never touch the machine's."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def nix_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment `nix-instantiate` runs in (or a skip reason when Nix is missing,
    which scripts/setup.sh installs)."""
    if shutil.which("nix-instantiate") is None:
        pytest.fail("nix-instantiate is not installed: run scripts/setup.sh (nix-bin)")
    home = tmp_path_factory.mktemp("nix-home")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("NIX_", "NDX_"))}
    env.update(HOME=str(home), NIX_PATH="", XDG_CACHE_HOME=str(home / "cache"),
               NIX_CONF_DIR=str(home), TZ="UTC")
    yield env


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """ndx's caches (parse table, parsed files) go to a temporary directory, not the
    user's ~/.cache, while these tests run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NDX_CACHE_DIR", str(tmp_path_factory.mktemp("ndx-cache")))
        yield
