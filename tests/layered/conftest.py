"""Fixtures of the layered-image tests: the example project built with `ndx-build` in a
temporary store (once per session; the real engines are the session's, from
tests/conftest.py), and a local registry behind a proxy that counts the bytes pushed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


@dataclass
class Project:
    """`tests/layered/project` copied to `work`, built into the store `store`."""

    work: Path
    store: Path
    built: dict[tuple[str, tuple[str, ...]], Path] = field(default_factory=dict)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(BIN / "ndx-build"), "--store", str(self.store), *args],
                              cwd=self.work, capture_output=True, text=True, check=False,
                              env=env())
        if check and proc.returncode != 0:
            raise AssertionError(f"ndx-build {' '.join(args)} failed:\n{proc.stderr}")
        return proc

    def build(self, attr: str, *args: str) -> Path:
        """The result of `-A attr` (built once per distinct arguments)."""
        key = (attr, args)
        if key not in self.built:
            link = self.work / f"result-{attr}-{len(self.built)}"
            self.run("default.ndx", "-A", attr, "-o", str(link), *args)
            self.built[key] = link
        return self.built[key]


def env() -> dict[str, str]:
    """The environment of the commands the tests run: ndx's commands first on PATH."""
    result = dict(os.environ)
    result["PATH"] = f"{BIN}{os.pathsep}{result.get('PATH', '/usr/bin:/bin')}"
    return result


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    base = tmp_path_factory.mktemp("layered")
    work = base / "project"
    shutil.copytree(HERE / "project", work)
    return Project(work, base / "store")
