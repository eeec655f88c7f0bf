"""Fixtures for build tests: a fresh disk store with busybox in it (the builders' only
tool, so the sandbox needs no host paths), and a helper to instantiate derivations."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest
from ndx.evaluator.io import Derivation, FixedOutput, Instantiated
from ndx.stdlib.build.progress import Reporter
from ndx.stdlib.store.disk import DiskStore

BUSYBOX = shutil.which("busybox") or "/bin/busybox"


def make_busybox_tree(dest: str) -> str:
    """`dest/bin/` with a static busybox and a symlink per applet."""
    bindir = os.path.join(dest, "bin")
    os.makedirs(bindir)
    shutil.copy(BUSYBOX, os.path.join(bindir, "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            os.symlink("busybox", os.path.join(bindir, applet))
    return dest


@pytest.fixture(scope="session")
def busybox_tree(tmp_path_factory) -> str:
    return make_busybox_tree(str(tmp_path_factory.mktemp("busybox") / "busybox"))


@pytest.fixture
def store(tmp_path) -> Iterator[DiskStore]:
    store = DiskStore(str(tmp_path / "store"))
    yield store
    store.close()


@pytest.fixture
def busybox(store, busybox_tree) -> str:
    return store.add_path(busybox_tree, name="busybox")


class Recorder(Reporter):
    """Keeps every event, for tests to inspect."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.lines: list[tuple[str, str]] = []
        self.messages: list[str] = []
        self.bytes = 0

    def started(self, drv_path: str, name: str) -> None:
        self.events.append(("start", name))

    def finished(self, drv_path: str, name: str, ok: bool) -> None:
        self.events.append(("ok" if ok else "fail", name))

    def log_line(self, name: str, line: str) -> None:
        self.lines.append((name, line))

    def fetched(self, nbytes: int) -> None:
        self.bytes += nbytes

    def message(self, text: str) -> None:
        self.messages.append(text)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


MakeDrv = Callable[..., Instantiated]


@pytest.fixture
def make(store, busybox) -> MakeDrv:
    """make(name, script, deps=[Instantiated…], srcs=[…], outputs=…, env={…}, fixed=…)
    instantiates a busybox-sh derivation; `deps` become input derivations whose output
    paths are in the environment as dep0, dep1, … (and listed in the script's scope)."""

    def make_drv(name: str, script: str, *, deps: tuple[Instantiated, ...] = (),
                 srcs: tuple[str, ...] = (), outputs: tuple[str, ...] = ("out",),
                 env: dict[str, str] | None = None, fixed: FixedOutput | None = None,
                 builder: str | None = None, args: tuple[str, ...] | None = None
                 ) -> Instantiated:
        attrs = {"name": name, "system": "x86_64-linux",
                 "builder": builder or f"{busybox}/bin/sh", "PATH": f"{busybox}/bin"}
        if outputs != ("out",):
            attrs["outputs"] = " ".join(outputs)
        input_drvs = {}
        for i, dep in enumerate(deps):
            attrs[f"dep{i}"] = dep.outputs["out"]
            input_drvs[dep.drv_path] = frozenset(["out"])
        attrs.update(env or {})
        drv = Derivation(name, "x86_64-linux", attrs["builder"],
                         args if args is not None else ("-ec", script), attrs, outputs,
                         input_drvs, frozenset([busybox, *srcs]), fixed)
        return store.instantiate(drv)

    return make_drv
