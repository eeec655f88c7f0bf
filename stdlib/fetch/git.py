"""`builtins.fetchGit` (and `fetchTree { type = "git"; }`): a revision of a Git
repository, exported without `.git` into the store.

Local repositories (a path or a `file://` URL) are read in place, so this works
offline; a local repository with uncommitted changes to tracked files and no `rev`/`ref`
gives its working tree (Nix's "dirty tree", with an all-zero `rev`). Remote ones are
fetched into a bare cache repository first. `ref` names a branch (`main`,
`refs/heads/main`) or tag (`refs/tags/v1`), `HEAD` by default; `rev` pins a commit;
`submodules = true` checks submodules out too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.parse
from dataclasses import asdict, dataclass
from typing import Any

from ndx.evaluator.io import StoreIO
from ndx.stdlib.store.encoding import sri
from ndx.stdlib.store.fsutil import remove_tree
from ndx.stdlib.store.nar import hash_path

from .errors import FetchError
from .evaltime import checked_name, scratch_dir

NO_REV = "0" * 40


@dataclass
class GitResult:
    """What `fetchGit` returns (besides `outPath`, which is `path`)."""

    path: str
    rev: str
    rev_count: int
    last_modified: int
    nar_hash: str
    submodules: bool

    def attrs(self) -> dict[str, Any]:
        """The attributes of the result set, Nix's names and order."""
        return {"lastModified": self.last_modified,
                "lastModifiedDate": time.strftime("%Y%m%d%H%M%S",
                                                  time.gmtime(self.last_modified)),
                "narHash": self.nar_hash, "rev": self.rev, "revCount": self.rev_count,
                "shortRev": self.rev[:7], "submodules": self.submodules}


def _git(*args: str, cwd: str | None = None, check: bool = True,
         capture: bool = True) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        raise FetchError("fetchGit needs git, which is not installed: install the 'git' "
                         "package")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1",
           "LC_ALL": "C"}
    run = subprocess.run([git, *args], cwd=cwd, env=env, capture_output=capture, check=False)
    if check and run.returncode != 0:
        detail = run.stderr.decode(errors="replace").strip() if capture else ""
        raise FetchError(f"git {args[0]} failed: {detail or f'exit code {run.returncode}'}")
    return run


def _out(*args: str, cwd: str | None = None) -> str:
    return _git(*args, cwd=cwd).stdout.decode().strip()


def local_repo(url: str) -> str | None:
    """The directory of a local repository URL (a path or `file://…`), else None."""
    if url.startswith("/"):
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return urllib.parse.unquote(parts.path)
    if parts.scheme.startswith("git+") and parts.scheme[4:] == "file":
        return urllib.parse.unquote(parts.path)
    return None


def _full_ref(ref: str) -> str:
    return ref if ref == "HEAD" or ref.startswith("refs/") else f"refs/heads/{ref}"


def fetch_git(store: StoreIO, url: str, *, name: str = "source", rev: str | None = None,
              ref: str | None = None, submodules: bool = False, shallow: bool = False,
              all_refs: bool = False, what: str = "builtins.fetchGit") -> GitResult:
    """Fetch a revision of the repository at `url` into the store."""
    name = checked_name(name, what)
    if rev is not None and (len(rev) != 40 or any(c not in "0123456789abcdef" for c in rev)):
        raise FetchError(f"{what}: '{rev}' is not a full Git commit hash (40 hex digits)")
    local = local_repo(url)
    if local is not None:
        if not os.path.isdir(local):
            raise FetchError(f"{what}: '{local}' does not exist or is not a directory")
        if rev is None and ref is None and _is_dirty(local):
            return _dirty_tree(store, local, name, submodules)
        repo = local
        if _out("rev-parse", "--is-bare-repository", cwd=local) == "false":
            repo = _out("rev-parse", "--show-toplevel", cwd=local)
    else:
        repo = _cached_clone(store, url)
    if rev is None:
        rev = _resolve(repo, url, _full_ref(ref or "HEAD"), local is None, shallow, all_refs)
    elif _git("cat-file", "-e", f"{rev}^{{commit}}", cwd=repo, check=False).returncode:
        if local is None:
            _fetch(repo, url, "+refs/*:refs/*" if all_refs else rev, shallow)
        if _git("cat-file", "-e", f"{rev}^{{commit}}", cwd=repo, check=False).returncode:
            raise FetchError(f"{what}: revision {rev} is not in the repository '{url}'"
                             + ("" if ref is None else f" (ref '{ref}')"))
    key = f"git:{repo}:{rev}:{int(submodules)}:{name}"
    cached = _cache_get(store, key)
    if cached is not None:
        return cached
    with scratch_dir(store, "git") as tmp:
        tree = os.path.join(tmp, "tree")
        if submodules:
            _checkout_with_submodules(repo, rev, tree)
        else:
            _archive(repo, rev, tree)
        nar_hash = sri("sha256", hash_path(tree)[0])
        path = store.add_path(tree, name=name)
    count = 0 if shallow else int(_out("rev-list", "--count", rev, cwd=repo))
    result = GitResult(path, rev, count, int(_out("log", "-1", "--format=%ct", rev, cwd=repo)),
                       nar_hash, submodules)
    _cache_put(store, key, result)
    return result


def _is_dirty(repo: str) -> bool:
    if _out("rev-parse", "--is-bare-repository", cwd=repo) == "true":
        return False
    if _git("rev-parse", "--verify", "HEAD", cwd=repo, check=False).returncode:
        return True   # no commit yet: the working tree is all there is
    status = _out("status", "--porcelain", "--untracked-files=no", cwd=repo)
    return bool(status)


def _dirty_tree(store: StoreIO, repo: str, name: str, submodules: bool) -> GitResult:
    """The working tree's tracked files, as Nix does for a dirty local repository."""
    top = _out("rev-parse", "--show-toplevel", cwd=repo)
    _warn(store, f"warning: Git tree '{top}' is dirty")
    listing = _git("ls-files", "-z", *(["--recurse-submodules"] if submodules else []),
                   cwd=top).stdout.decode().split("\0")
    keep: set[str] = set()
    for file in filter(None, listing):
        while file and file not in keep:
            keep.add(file)
            file = os.path.dirname(file)

    def tracked(path: str, _kind: str) -> bool:
        return os.path.relpath(path, top) in keep

    path = store.add_path(top, name=name, filter=tracked)
    real = store.real_path(path)
    head = _git("log", "-1", "--format=%ct", cwd=top, check=False).stdout.decode().strip()
    return GitResult(path, NO_REV, 0, int(head or 0), sri("sha256", hash_path(real)[0]),
                     submodules)


def _warn(store: StoreIO, text: str) -> None:
    reporter: Any = getattr(store, "reporter", None)
    if reporter is not None:
        reporter.message(text)
    else:
        sys.stderr.write(text + "\n")


def _cache_root(store: StoreIO) -> str:
    state = getattr(store, "state_dir", None)
    base = state or os.path.join(os.environ.get("XDG_CACHE_HOME")
                                 or os.path.expanduser("~/.cache"), "ndx")
    return os.path.join(base, "git-cache")


def _cached_clone(store: StoreIO, url: str) -> str:
    repo = os.path.join(_cache_root(store), hashlib.sha256(url.encode()).hexdigest()[:32])
    if not os.path.isdir(repo):
        os.makedirs(os.path.dirname(repo), exist_ok=True)
        tmp = f"{repo}.tmp-{os.getpid()}"
        _git("init", "--quiet", "--bare", tmp)
        os.replace(tmp, repo)
    return repo


def _fetch(repo: str, url: str, refspec: str, shallow: bool) -> None:
    _git("fetch", "--quiet", "--force", *(["--depth=1"] if shallow else []), "--", url,
         refspec, cwd=repo)


def _resolve(repo: str, url: str, ref: str, remote: bool, shallow: bool,
             all_refs: bool) -> str:
    if remote:
        _fetch(repo, url, "+refs/*:refs/*" if all_refs else ref, shallow)
        if not all_refs:
            return _out("rev-parse", "FETCH_HEAD", cwd=repo)
    run = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=repo, check=False)
    if run.returncode:
        raise FetchError(f"cannot find Git reference '{ref}' in '{url}'")
    return run.stdout.decode().strip()


def _archive(repo: str, rev: str, tree: str) -> None:
    os.mkdir(tree)
    archive = _git("archive", "--format=tar", rev, cwd=repo).stdout
    import io

    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        tar.extractall(tree, filter="tar")


def _checkout_with_submodules(repo: str, rev: str, tree: str) -> None:
    _git("clone", "--quiet", "--no-checkout", repo, tree)
    _git("checkout", "--quiet", rev, cwd=tree)
    _git("-c", "protocol.file.allow=always", "submodule", "--quiet", "update", "--init",
         "--recursive", cwd=tree)
    for directory, dirs, files in os.walk(tree):
        for entry in (".git",):
            if entry in dirs:
                dirs.remove(entry)
                remove_tree(os.path.join(directory, entry))
            if entry in files:
                os.unlink(os.path.join(directory, entry))


def _cache_get(store: StoreIO, key: str) -> GitResult | None:
    if getattr(store, "state_dir", None) is None:
        return None
    file = _cache_file(store)
    try:
        with open(file) as stream:
            entry = json.load(stream).get(key)
    except (OSError, ValueError):
        return None
    if not entry or not store.is_valid(entry["path"]):
        return None
    return GitResult(**entry)


def _cache_put(store: StoreIO, key: str, result: GitResult) -> None:
    if getattr(store, "state_dir", None) is None:
        return
    file = _cache_file(store)
    try:
        with open(file) as stream:
            cache = json.load(stream)
    except (OSError, ValueError):
        cache = {}
    cache[key] = asdict(result)
    os.makedirs(os.path.dirname(file), exist_ok=True)
    tmp = f"{file}.{os.getpid()}"
    with open(tmp, "w") as stream:
        json.dump(cache, stream)
    os.replace(tmp, file)


def _cache_file(store: StoreIO) -> str:
    return os.path.join(_cache_root(store), "results.json")
