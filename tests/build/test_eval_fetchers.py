"""The evaluation-time fetchers (`builtins.fetchurl`, `fetchTarball`, `fetchGit`,
`fetchTree`, `fetchMercurial`) through the evaluator, with Nix 2.8 as the oracle where
it can run offline."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ndx.evaluator.context import EvalContext
from ndx.evaluator.session import EvalRequest, eval_output, run_deep
from ndx.lang.errors import NdxError
from ndx.stdlib.store.encoding import nix_base32, sri
from ndx.stdlib.store.memory import MemoryStore


def evaluate(store, expr: str) -> str:
    return run_deep(eval_output, EvalContext(store),
                    EvalRequest(expression=expr, strict=True)).strip()


@pytest.fixture
def nix(tmp_path):
    def run(expr: str) -> str:
        out = subprocess.run(
            ["nix-instantiate", "--store", f"local?root={tmp_path}/nixroot&store=/ndx/store",
             "--eval", "--strict", "-E", expr],
            capture_output=True, text=True, check=True,
            env={**os.environ, "HOME": str(tmp_path), "NIX_CONF_DIR": str(tmp_path)})
        return out.stdout.strip()

    return run


def git(repo, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                           "-c", "protocol.file.allow=always", *args], cwd=repo,
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "a.txt").write_text("one\n")
    git(path, "add", "a.txt")
    git(path, "commit", "-qm", "one", "--date", "2020-01-01T00:00:00Z")
    git(path, "tag", "v1")
    (path / "b.txt").write_text("two\n")
    git(path, "add", "b.txt")
    git(path, "commit", "-qm", "two")
    return path


def test_fetch_git_local_matches_nix(store, nix, repo) -> None:
    for expr in (f"builtins.fetchGit {repo}",
                 f'fetchGit {{ url = "file://{repo}"; ref = "main"; }}'):
        assert evaluate(store, expr) == nix(expr)


def test_fetch_git_dirty_tree_matches_nix(store, nix, repo) -> None:
    (repo / "a.txt").write_text("changed\n")
    (repo / "untracked").write_text("not in git\n")
    expr = f"builtins.fetchGit {repo}"
    ours = evaluate(store, expr)
    assert ours == nix(expr)
    assert 'rev = "0000000000000000000000000000000000000000"' in ours


def test_fetch_git_rev_and_tags(store, repo) -> None:
    first = git(repo, "rev-parse", "v1")
    out = evaluate(store, f'(fetchGit {{ url = {repo}; rev = "{first}"; }}).revCount')
    assert out == "1"
    tag = evaluate(store, f'(fetchGit {{ url = {repo}; ref = "refs/tags/v1"; }}).rev')
    assert tag == f'"{first}"'
    old = evaluate(store, f'(fetchGit {{ url = {repo}; rev = "{first}"; }}).outPath')
    assert os.listdir(store.real_path(old.strip('"'))) == ["a.txt"]
    with pytest.raises(NdxError, match="is not in the repository"):
        evaluate(store, f'fetchGit {{ url = {repo}; rev = "{"1" * 40}"; }}')
    with pytest.raises(NdxError, match="cannot find Git reference"):
        evaluate(store, f'fetchGit {{ url = {repo}; ref = "nope"; }}')


def test_fetch_git_submodules(store, repo, tmp_path) -> None:
    parent = tmp_path / "parent"
    parent.mkdir()
    git(parent, "init", "-q")
    (parent / "top.txt").write_text("top\n")
    git(parent, "add", "top.txt")
    git(parent, "submodule", "add", "-q", str(repo), "sub")
    git(parent, "commit", "-qm", "with a submodule")
    path = evaluate(store, f'(fetchGit {{ url = {parent}; submodules = true; }}).outPath')
    real = store.real_path(path.strip('"'))
    assert sorted(os.listdir(real)) == [".gitmodules", "sub", "top.txt"]
    assert sorted(os.listdir(os.path.join(real, "sub"))) == ["a.txt", "b.txt"]
    plain = evaluate(store, f'(fetchGit {{ url = {parent}; }}).outPath')
    assert os.listdir(os.path.join(store.real_path(plain.strip('"')), "sub")) == []


@pytest.fixture
def http_dir(tmp_path):
    """Serve `tmp_path/www` over HTTP (git's dumb protocol works over it too)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_fetch_git_remote_goes_through_a_cache(store, repo, http_dir) -> None:
    root, url = http_dir
    bare = root / "repo.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    git(bare, "update-server-info")
    local = evaluate(store, f"(fetchGit {repo}).outPath")
    remote = evaluate(store, f'(fetchGit {{ url = "{url}/repo.git"; ref = "main"; }}).outPath')
    assert remote == local
    assert os.listdir(os.path.join(store.state_dir, "git-cache"))


def tarball_bytes() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data in (("pkg/README", b"readme\n"), ("pkg/src/main.c", b"int x;\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def test_fetchurl_and_fetch_tarball_match_nix(store, nix, tmp_path) -> None:
    (tmp_path / "f.txt").write_text("file content\n")
    (tmp_path / "pkg.tar.gz").write_bytes(tarball_bytes())
    for expr in (f'builtins.fetchurl "file://{tmp_path}/f.txt"',
                 f'fetchTarball "file://{tmp_path}/pkg.tar.gz"',
                 f'fetchTarball {{ url = "file://{tmp_path}/pkg.tar.gz"; name = "pkg"; }}'):
        assert evaluate(store, expr) == nix(expr)


def test_hashed_fetches_skip_the_download_when_valid(store, tmp_path, monkeypatch) -> None:
    data = b"file content\n"
    (tmp_path / "f.txt").write_bytes(data)
    digest = hashlib.sha256(data).digest()
    expr = f'builtins.fetchurl {{ url = "file://{tmp_path}/f.txt"; sha256 = "{digest.hex()}"; }}'
    first = evaluate(store, expr)
    gone = (f'builtins.fetchurl {{ url = "file://{tmp_path}/gone"; name = "f.txt"; '
            f'sha256 = "{digest.hex()}"; }}')
    assert evaluate(store, gone) == first
    (tmp_path / "pkg.tar.gz").write_bytes(tarball_bytes())
    path = evaluate(store, f'fetchTarball "file://{tmp_path}/pkg.tar.gz"').strip('"')
    nar = store.path_info(path).nar_hash.split(":")[1]
    again = evaluate(store, f'fetchTarball {{ url = "file://{tmp_path}/gone.tar.gz"; '
                            f'sha256 = "{nar}"; }}')
    assert again.strip('"') == path


def test_fetchurl_hash_mismatch_names_both_hashes(tmp_path) -> None:
    data = b"actual\n"
    (tmp_path / "f").write_bytes(data)
    wrong = hashlib.sha256(b"expected").digest()
    with pytest.raises(NdxError) as info:
        evaluate(MemoryStore(), f'builtins.fetchurl {{ url = "file://{tmp_path}/f"; '
                                f'hash = "{sri("sha256", wrong)}"; }}')
    actual = hashlib.sha256(data).digest()
    for text in (sri("sha256", wrong), nix_base32(wrong), sri("sha256", actual),
                 nix_base32(actual)):
        assert text in str(info.value)


def test_fetchurl_uses_hashed_mirrors(store, tmp_path, monkeypatch) -> None:
    data = b"mirrored\n"
    digest = hashlib.sha256(data).digest()
    (tmp_path / "mirror" / "sha256").mkdir(parents=True)
    (tmp_path / "mirror" / "sha256" / digest.hex()).write_bytes(data)
    monkeypatch.setenv("NDX_HASHED_MIRRORS", (tmp_path / "mirror").as_uri())
    path = evaluate(store, f'builtins.fetchurl {{ url = "http://127.0.0.1:9/x.txt"; '
                           f'sha256 = "{nix_base32(digest)}"; }}')
    with open(store.real_path(path.strip('"')), "rb") as file:
        assert file.read() == data


def test_fetch_tree_types(store, repo, tmp_path) -> None:
    (tmp_path / "pkg.tar.gz").write_bytes(tarball_bytes())
    (tmp_path / "f.txt").write_text("file\n")
    git_tree = evaluate(store, f'(fetchTree {{ type = "git"; url = "{repo}"; }}).outPath')
    assert git_tree == evaluate(store, f"(fetchGit {repo}).outPath")
    tarball = evaluate(store, f'fetchTree {{ type = "tarball"; url = "file://{tmp_path}/'
                              f'pkg.tar.gz"; }}')
    assert 'narHash = "sha256-' in tarball
    narhash = tarball.split('narHash = "')[1].split('"')[0]
    pinned = evaluate(store, f'(fetchTree {{ type = "tarball"; url = "file://{tmp_path}/'
                             f'gone.tar.gz"; narHash = "{narhash}"; }}).outPath')
    assert pinned in tarball
    file = evaluate(store, f'(fetchTree {{ type = "file"; url = "file://{tmp_path}/f.txt"; '
                           '}).outPath')
    with open(store.real_path(file.strip('"'))) as stream:
        assert stream.read() == "file\n"
    path = evaluate(store, f'(fetchTree {{ type = "path"; path = "{repo}"; }}).narHash')
    assert path.startswith('"sha256-')
    with pytest.raises(NdxError, match="does not support the type 'svn'"):
        evaluate(store, 'fetchTree { type = "svn"; url = "x"; }')
    with pytest.raises(NdxError, match="NAR hash mismatch"):
        evaluate(store, f'fetchTree {{ type = "path"; path = "{repo}"; narHash = '
                        f'"{sri("sha256", bytes(32))}"; }}')


def test_unknown_arguments_are_rejected(store, repo) -> None:
    with pytest.raises(NdxError, match="unsupported argument 'colour' to 'fetchGit'"):
        evaluate(store, f'fetchGit {{ url = {repo}; colour = "red"; }}')


def test_fetch_mercurial_without_hg_names_the_package(store, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(NdxError, match="install the 'mercurial' package"):
        evaluate(store, 'fetchMercurial { url = "https://example.org/repo"; }')


def test_fetchers_need_a_store() -> None:
    with pytest.raises(NdxError, match="no store"):
        run_deep(eval_output, EvalContext(None),
                 EvalRequest(expression='builtins.fetchurl "file:///etc/hostname"'))


@pytest.fixture
def hg_repo(tmp_path):
    path = tmp_path / "hgrepo"
    path.mkdir()

    def hg(*args: str) -> None:
        subprocess.run(["hg", *args], cwd=path, check=True, capture_output=True,
                       env={**os.environ, "HGPLAIN": "1", "HGUSER": "t"})

    hg("init")
    (path / "a.txt").write_text("hi\n")
    hg("add", "a.txt")
    hg("commit", "-m", "one", "-d", "2020-01-01 00:00 +0000")
    (path / "b.txt").write_text("two\n")
    hg("add", "b.txt")
    hg("commit", "-m", "two", "-d", "2020-01-02 00:00 +0000")
    return path


def test_fetch_mercurial_matches_nix(store, nix, hg_repo) -> None:
    for expr in (f"fetchMercurial {hg_repo}",
                 f'fetchMercurial {{ url = "file://{hg_repo}"; rev = "0"; }}'):
        assert evaluate(store, expr) == nix(expr)
