"""`builtins.fetchMercurial`: a revision of a Mercurial repository, archived into the
store. Needs the `hg` command; without it the builtin says which package to install."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from ndx.evaluator.io import StoreIO

from .errors import FetchError
from .evaltime import checked_name, scratch_dir
from .git import local_repo


@dataclass
class HgResult:
    """What `fetchMercurial` returns besides `outPath` (`path`)."""

    path: str
    rev: str
    rev_count: int
    branch: str

    def attrs(self) -> dict[str, Any]:
        return {"branch": self.branch, "rev": self.rev, "revCount": self.rev_count,
                "shortRev": self.rev[:12]}


def hg_path() -> str:
    """The `hg` executable, or a FetchError naming the package."""
    hg = shutil.which("hg")
    if hg is None:
        raise FetchError("fetchMercurial needs Mercurial ('hg'), which is not installed: "
                         "install the 'mercurial' package (e.g. apt-get install mercurial)")
    return hg


def _hg(*args: str, cwd: str | None = None) -> str:
    env = {**os.environ, "HGPLAIN": "1", "HGRCPATH": ""}
    run = subprocess.run([hg_path(), *args], cwd=cwd, env=env, capture_output=True,
                         check=False)
    if run.returncode != 0:
        detail = run.stderr.decode(errors="replace").strip()
        raise FetchError(f"hg {args[0]} failed: {detail or f'exit code {run.returncode}'}")
    return run.stdout.decode().strip()


def fetch_mercurial(store: StoreIO, url: str, *, name: str = "source",
                    rev: str | None = None) -> HgResult:
    """Fetch revision `rev` (a node, a branch or a tag; the `default` branch when None)."""
    name = checked_name(name, "builtins.fetchMercurial")
    hg_path()
    repo = local_repo(url)
    if repo is None:
        state = getattr(store, "state_dir", None) or os.path.expanduser("~/.cache/ndx")
        repo = os.path.join(state, "hg-cache", hashlib.sha256(url.encode()).hexdigest()[:32])
        if not os.path.isdir(repo):
            os.makedirs(os.path.dirname(repo), exist_ok=True)
            _hg("clone", "--quiet", "--noupdate", url, repo)
        else:
            _hg("pull", "--quiet", url, cwd=repo)
    node, number, branch = _hg("log", "-r", rev or "default", "--template",
                               "{node} {rev} {branch}", cwd=repo).split(" ", 2)
    with scratch_dir(store, "hg") as tmp:
        tree = os.path.join(tmp, "tree")
        _hg("archive", "--quiet", "-r", node, "--type", "files", tree, cwd=repo)
        archival = os.path.join(tree, ".hg_archival.txt")
        if os.path.exists(archival):
            os.unlink(archival)
        path = store.add_path(tree, name=name)
    return HgResult(path, node, int(number), branch)   # Nix reports the revision number
