"""The differential oracle: every case must print exactly what Nix 2.8 prints.

Each case is one file, `tests/oracle/<area>/<name>.ndx`, an expression. An optional first
line `# flags: --json -A x` gives extra flags both tools accept (added to `--eval
--strict`). There is no way to skip a case: one whose output would show Nix's store paths
belongs in tests/store/test_nix_oracle.py, which compares against a Nix store instead.

The case runs through `nix-instantiate --eval --strict` (live) and through `ndx eval
--strict` (in-process, via `ndx.cli.eval.run_argv`, the function the CLI runs); stdout
and the exit status (0 or 1) must be identical. Helper files the cases import live in
`<area>/data/`, which is not collected.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from ndx.cli.eval import run_argv

ORACLE_DIR = Path(__file__).parent
CASES = sorted(ORACLE_DIR.glob("*/*.ndx"))


def read_flags(path: Path) -> list[str]:
    """The extra flags declared at the top of a case."""
    flags: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        if body.startswith("flags:"):
            flags = shlex.split(body[len("flags:"):])
    return flags


def run_nix(path: Path, flags: list[str], env: dict[str, str]) -> tuple[bytes, int]:
    proc = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", *flags, str(path)],
        capture_output=True, env=env, cwd=path.parent, timeout=120, check=False)
    return proc.stdout, 0 if proc.returncode == 0 else 1


def run_ndx(path: Path, flags: list[str]) -> tuple[bytes, int, str]:
    """ndx's stdout as the bytes the CLI writes (strings are byte strings in Nix; ndx
    keeps bytes that are not UTF-8 as surrogate escapes)."""
    result = run_argv(["--strict", *flags, str(path)], base_dir=str(path.parent))
    return (result.stdout.encode("utf-8", "surrogateescape"), result.exit_code,
            result.stderr)


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_case_matches_nix(case: Path, nix_environment: dict[str, str]) -> None:
    flags = read_flags(case)
    nix_out, nix_status = run_nix(case, flags, nix_environment)
    ndx_out, ndx_status, ndx_err = run_ndx(case, flags)
    assert (ndx_out, ndx_status) == (nix_out, nix_status), (
        f"ndx differs from Nix for {case.name}\n--- ndx stderr:\n{ndx_err}")


def test_the_corpus_is_large() -> None:
    """The corpus is the specification: it must stay broad."""
    assert len([c for c in CASES if c.parent.name == "lang"]) >= 300
