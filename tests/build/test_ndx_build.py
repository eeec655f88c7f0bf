"""`ndx-build` end to end: the hello example (a C program from a tarball served through
a hashed mirror, compiled by one derivation, wrapped by another) builds; a second run
builds nothing; changing one input rebuilds exactly its dependents; the recorded
closure is exact; `ndx store gc` keeps what `result` reaches. Plus the command's
options, errors and `ndx log` / `ndx store` subcommands."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time

import pytest
from .helpers import with_logical_store
from ndx.cli.build import BuildRequest, run_build
from ndx.stdlib.store.disk import DiskStore

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)


def deterministic_tarball(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1, 0o644
            tar.addfile(info, io.BytesIO(data))
    import gzip

    return gzip.compress(raw.getvalue(), mtime=0)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The hello project in a temporary directory, its tarball on a file:// hashed
    mirror, and a private store; returns (directory, store directory, environment)."""
    with open(os.path.join(HERE, "hello", "hello.c"), "rb") as file:
        tarball = deterministic_tarball({"hello-1.0/hello.c": file.read()})
    digest = hashlib.sha256(tarball).hexdigest()
    mirror = tmp_path / "mirror" / "sha256"
    mirror.mkdir(parents=True)
    (mirror / digest).write_bytes(tarball)
    work = tmp_path / "project"
    work.mkdir()
    with open(os.path.join(HERE, "hello", "default.ndx")) as file:
        (work / "default.ndx").write_text(file.read().replace("@SHA256@", digest))
    store_dir = str(tmp_path / "store")
    env = {**os.environ, "NDX_HASHED_MIRRORS": (tmp_path / "mirror").as_uri(),
           "NDX_STORE": store_dir}
    monkeypatch.setenv("NDX_HASHED_MIRRORS", env["NDX_HASHED_MIRRORS"])
    monkeypatch.setenv("NDX_STORE", store_dir)
    monkeypatch.chdir(work)
    return work, store_dir, env


def ndx_build(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([os.path.join(BIN, "ndx-build"), *args], capture_output=True,
                          text=True, env=env, check=False)


def ndx(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([os.path.join(BIN, "ndx"), *args], capture_output=True, text=True,
                          env=env, check=False)


def dry_run(env, *args: str) -> str:
    run = ndx_build(env, "default.ndx", "--dry-run", *args)
    assert run.returncode == 0, run.stderr
    return run.stderr


def test_the_hello_example_end_to_end(project) -> None:
    work, store_dir, env = project
    plan = dry_run(env, "-A", "wrapper")
    assert "these 2 derivations will be built:" in plan
    assert "these 1 paths will be fetched:" in plan

    first = ndx_build(env, "default.ndx", "-A", "wrapper")
    assert first.returncode == 0, first.stderr
    wrapper = first.stdout.strip()
    assert wrapper.startswith("/ndx/store/") and wrapper.endswith("-hello-wrapper")
    assert "hello-1.0> compiling hello with Hello" in first.stderr
    assert os.readlink(work / "result") == store_dir + wrapper[len("/ndx/store"):]

    # The wrapper runs the compiled program through its logical store path.
    ran = subprocess.run(with_logical_store(store_dir, [f"{wrapper}/bin/hello-wrapped",
                                                        "world"]),
                         capture_output=True, text=True, check=True)
    assert ran.stdout == "Hello, world!\n"

    # The closure is exactly the wrapper and the program: not the tarball, the
    # compiler or any .drv.
    closure = ndx(env, "store", "path-info", "-r", "result")
    assert closure.returncode == 0, closure.stderr
    paths = closure.stdout.split()
    assert len(paths) == 2 and paths[1] == wrapper and paths[0].endswith("-hello-1.0")

    # A second run builds nothing (its wall time is reported, not asserted).
    started = time.monotonic()
    second = ndx_build(env, "default.ndx", "-A", "wrapper")
    elapsed = time.monotonic() - started
    print(f"\nsecond ndx-build run (nothing to build) took {elapsed:.2f}s")
    assert second.returncode == 0 and second.stdout.strip() == wrapper
    assert "> " not in second.stderr
    assert "nothing to build" in dry_run(env, "-A", "wrapper")

    # Changing one input rebuilds exactly what depends on it.
    only_wrapper = dry_run(env, "-A", "wrapper", "--argstr", "wrapperName", "hi")
    assert "these 1 derivations will be built:" in only_wrapper
    assert "-hello-wrapper.drv" in only_wrapper and "fetched" not in only_wrapper
    both = dry_run(env, "-A", "wrapper", "--argstr", "greeting", "Bonjour")
    assert "these 2 derivations will be built:" in both and "fetched" not in both
    third = ndx_build(env, "default.ndx", "-A", "wrapper", "--argstr", "greeting", "Bonjour")
    assert third.returncode == 0, third.stderr
    assert "hello-1.0> compiling hello with Bonjour" in third.stderr
    bonjour = third.stdout.strip()
    assert bonjour != wrapper

    # gc keeps what `result` (now the Bonjour wrapper) reaches, and removes the rest.
    gc = ndx(env, "store", "gc")
    assert gc.returncode == 0, gc.stderr
    with DiskStore(store_dir) as store:
        alive = store.closure([bonjour])
        assert len(alive) == 2
        assert set(store.db.valid_paths()) == alive
        assert sorted(os.listdir(store_dir)) == sorted(
            [".ndx", *(p.rsplit("/", 1)[1] for p in alive)])
    verify = ndx(env, "store", "verify", "--check-contents")
    assert verify.returncode == 0 and "no problems" in verify.stdout


def test_several_targets_and_outputs_get_numbered_links(project) -> None:
    del project  # (sets up the directory, store and mirror)
    assert run_build(BuildRequest(file="default.ndx", attr_paths=("wrapper", "hello"))) == 0
    assert os.readlink("result").endswith("-hello-wrapper")
    assert os.readlink("result-2").endswith("-hello-1.0")
    assert run_build(BuildRequest(file="default.ndx", attr_paths=("src",), out_link="tarball")) \
        == 0
    assert os.readlink("tarball").endswith("-hello-1.0.tar.gz")
    assert run_build(BuildRequest(expression=MULTI_OUTPUT, attr_paths=("dev",))) == 0
    assert os.readlink("result-dev").endswith("-multi-dev")


MULTI_OUTPUT = """
derivation { name = "multi"; system = "x86_64-linux"; builder = "/bin/sh";
  outputs = [ "out" "dev" ]; __impureHostDeps = [ "/usr" "/bin" "/lib" "/lib64" ];
  args = [ "-c" "echo > $out; echo > $dev" ]; }
"""


def test_no_out_link_and_printing(project, capsys) -> None:
    assert run_build(BuildRequest(file="default.ndx", attr_paths=("hello",),
                                  no_out_link=True)) == 0
    assert not os.path.lexists("result")
    assert capsys.readouterr().out.strip().endswith("-hello-1.0")


FAILING = """
derivation { name = "broken"; system = "x86_64-linux"; builder = "/bin/sh";
  __impureHostDeps = [ "/usr" "/bin" "/lib" "/lib64" ]; PATH = "/bin";
  args = [ "-c" "for i in $(seq 1 30); do echo step $i; done; echo kept > clue; exit 2" ]; }
"""


def test_failed_build_shows_the_log_tail_and_ndx_log_the_rest(project) -> None:
    _work, _store, env = project
    run = ndx_build(env, "-E", FAILING, "--quiet", "-K")
    assert run.returncode == 1
    assert "failed with exit code 2" in run.stderr
    assert "step 6\n" in run.stderr and "step 30" in run.stderr
    assert "step 5\n" not in run.stderr
    command = run.stderr.split("run '")[1].split("'")[0]
    assert command.startswith("ndx log /ndx/store/")
    log = ndx(env, *command.split()[1:])
    assert log.returncode == 0 and log.stdout.count("step ") == 30
    kept = run.stderr.split("kept in '")[1].split("'")[0]
    with open(os.path.join(kept, "clue")) as file:
        assert file.read() == "kept\n"
    shutil.rmtree(kept, ignore_errors=True)


def test_ndx_log_of_a_result_link(project) -> None:
    _work, _store, env = project
    assert ndx_build(env, "default.ndx", "-A", "hello").returncode == 0
    log = ndx(env, "log", "result")
    assert log.returncode == 0 and "compiling hello with Hello" in log.stdout
    missing = ndx(env, "log", "/ndx/store/00000000000000000000000000000000-nothing")
    assert missing.returncode == 1 and "no build log" in missing.stderr


def test_check_rebuilds_and_compares(project) -> None:
    _work, _store, env = project
    assert ndx_build(env, "default.ndx", "-A", "hello").returncode == 0
    check = ndx_build(env, "default.ndx", "-A", "hello", "--check")
    assert check.returncode == 0, check.stderr


def test_evaluation_errors_are_diagnostics(project) -> None:
    _work, _store, env = project
    run = ndx_build(env, "default.ndx", "-A", "nope")
    assert run.returncode == 1
    assert "attribute 'nope' in selection path 'nope' not found" in run.stderr
    assert "Traceback" not in run.stderr
    run = ndx_build(env, "-E", "42")
    assert run.returncode == 1
    assert "the expression evaluates to an integer, which is not a derivation" in run.stderr
    run = ndx_build(env, "-E", "{ a = 1; }")
    assert "evaluates to a set without derivations" in run.stderr


def test_a_bad_arg_is_reported_at_once(project) -> None:
    """`--arg` text is parsed before evaluation, as nix-build does: its syntax error is
    the error, named after the --arg, even though nothing uses it."""
    _work, _store, env = project
    run = ndx_build(env, "default.ndx", "-A", "hello", "--dry-run", "--arg", "unused", "{")
    assert run.returncode == 1
    assert run.stderr.startswith("«--arg unused»:1:2: error: unexpected end of file")
    assert "Traceback" not in run.stderr


def test_no_sandbox_warns_loudly(project) -> None:
    _work, _store, env = project
    run = ndx_build(env, "default.ndx", "-A", "hello", "--no-sandbox")
    assert "warning: --no-sandbox" in run.stderr
    assert run.returncode == 1 and "need the store at its logical place" in run.stderr


SLOW = """
derivation { name = "slow"; system = "x86_64-linux"; builder = "/bin/sh";
  __impureHostDeps = [ "/usr" "/bin" "/lib" "/lib64" ]; PATH = "/bin";
  args = [ "-c" "echo started; sleep 30; echo > $out" ]; }
"""


def test_ctrl_c_stops_the_build(project) -> None:
    _work, store_dir, env = project
    proc = subprocess.Popen([os.path.join(BIN, "ndx-build"), "-E", SLOW], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "slow> started" in line:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert "interrupted" in err
    with DiskStore(store_dir) as store:
        assert store.verify(check_contents=True).ok
        assert os.listdir(os.path.join(store.state_dir, "tmp")) == []
