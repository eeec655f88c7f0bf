"""`ndx-build` of a `.ndx` file that builds images: the hello-world program compiled by a
derivation runs under `docker run`, a runAsRoot image runs its Cmd as the user it made,
a second run builds nothing, and `--check` rebuilds the image bit for bit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def ndx_build(work: Path, store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ndx-build"), "--store", str(store), *args], cwd=work,
                          capture_output=True, text=True, check=False)


def test_ndx_build_images_that_docker_runs(tmp_path, dockerd) -> None:
    work = tmp_path / "project"
    shutil.copytree(HERE / "hello-image", work)
    store = tmp_path / "store"
    built = ndx_build(work, store, "default.ndx", "-A", "image")
    assert built.returncode == 0, built.stderr
    result = work / "result"
    assert os.path.realpath(result).startswith(str(store))
    assert "Loaded image: ndx-hello:latest" in dockerd.load(result)
    assert dockerd.run("ndx-hello:latest") == "Hello from ndx!\n"
    again = ndx_build(work, store, "default.ndx", "-A", "image")
    assert again.returncode == 0 and "building image" not in again.stderr
    check = ndx_build(work, store, "default.ndx", "-A", "image", "--check")
    assert check.returncode == 0, check.stderr


def test_ndx_build_run_as_root_image(tmp_path, dockerd) -> None:
    work = tmp_path / "project"
    shutil.copytree(HERE / "hello-image", work)
    store = tmp_path / "store"
    built = ndx_build(work, store, "default.ndx", "-A", "withUser")
    assert built.returncode == 0, built.stderr
    dockerd.load(work / "result")
    lines = dockerd.run("ndx-hello-user:latest").splitlines()
    assert lines[0] == "Hello from ndx!"
    assert lines[1].startswith("uid=999(app) gid=999(app)")
