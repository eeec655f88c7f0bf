"""Fixtures for the REPL tests: an in-process session on a private disk store, and the
real `ndx repl` in a pseudo-terminal (a private tmux server)."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ndx.cli.repl.session import ReplSession
from ndx.stdlib.store.disk import DiskStore

from .tmux import TmuxRepl

HERE = Path(__file__).resolve().parent


class Captured:
    """A session whose output is kept: `run(text)` returns (stdout, stderr) of one input."""

    def __init__(self, session: ReplSession, out: io.StringIO, err: io.StringIO) -> None:
        self.session = session
        self.out = out
        self.err = err

    def run(self, text: str) -> tuple[str, str]:
        for stream in (self.out, self.err):
            stream.seek(0)
            stream.truncate()
        self.last_result = self.session.execute(text)
        return self.out.getvalue(), self.err.getvalue()

    def value(self, text: str) -> str:
        """The printed output of `text`, which must not fail."""
        out, err = self.run(text)
        assert err == "", err
        return out.rstrip("\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working directory holding `pkgs.ndx`."""
    work = tmp_path / "project"
    work.mkdir()
    shutil.copy(HERE / "pkgs.ndx", work / "pkgs.ndx")
    return work


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DiskStore]:
    with DiskStore(str(tmp_path / "store")) as disk:
        yield disk


@pytest.fixture
def session(store: DiskStore, project: Path) -> Captured:
    out, err = io.StringIO(), io.StringIO()
    repl = ReplSession(store, auto_args=[("greeting", "str", "hi")], out=out, err=err,
                       base_dir=str(project))
    return Captured(repl, out, err)


@pytest.fixture
def terminal(tmp_path: Path, project: Path) -> Iterator[TmuxRepl]:
    """`ndx repl` on a private tmux server, HOME in a temporary directory (so the history
    goes to HOME/.local/state/ndx/repl_history) and a private store. Not started yet:
    call `start(args…)`."""
    home = tmp_path / "home"
    home.mkdir()
    tmux = TmuxRepl(tmp_path / "tmux", cwd=project, home=home, store=tmp_path / "store")
    try:
        yield tmux
    finally:
        tmux.stop()
