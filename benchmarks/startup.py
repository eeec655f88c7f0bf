"""Start-up benchmark: what every `ndx` / `ndx-build` command pays before doing anything,
against Nix 2.8 (`nix-instantiate --eval -E 1`) and the Python interpreter itself, one run.

    python benchmarks/startup.py [--repeat N]

Rows (each a fresh process; its CPU time is user + system from the children's rusage, so
other load on the machine does not count; the best of N runs is kept):
  python -c pass            the interpreter's floor (the venv's python, with site)
  nix-instantiate -E 1      the reference: `nix-instantiate --eval -E 1`
  ndx eval -E 1             the evaluator's start-up on a trivial expression
  ndx --help                the click group listing every subcommand
  ndx-build (no-op)         `ndx-build -E …` of a trivial derivation already built in a
                            temporary store (`--store DIR`): evaluate, find it valid, stop

The ratios are each row's time over Nix's and over the interpreter floor.

Python runs as installed programs do, with its bytecode caches: PYTHONDONTWRITEBYTECODE
is dropped from the environment and each row runs once before it is measured, so no run
pays for compiling ndx's modules from source.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BIN = Path(sys.executable).parent
NOOP_DERIVATION = (
    'derivation { name = "startup-noop"; system = builtins.currentSystem; '
    'builder = "/bin/sh"; args = [ "-c" "echo ok > $out" ]; '
    '__impureHostDeps = [ "/usr" "/bin" "/lib" "/lib64" ]; }'
)


#: The environment of every run: with bytecode caches, as an installed ndx runs.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cpu_time(argv: list[str], cwd: str | None = None) -> float:
    """CPU seconds (user + system) of one fresh process running `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n"
                         f"{done.stderr.decode(errors='replace')}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best_of(argv: list[str], repeat: int, cwd: str | None = None) -> float:
    """The best of `repeat` runs, after one unmeasured run that writes bytecode caches."""
    cpu_time(argv, cwd)
    return min(cpu_time(argv, cwd) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs per row (best kept)")
    options = parser.parse_args()

    nix = shutil.which("nix-instantiate")
    if nix is None:
        raise SystemExit("nix-instantiate is not installed (the reference): "
                         "run ./dev.sh setup")
    ndx, ndx_build = str(BIN / "ndx"), str(BIN / "ndx-build")
    with tempfile.TemporaryDirectory(prefix="ndx-startup-") as tmp:
        store = os.path.join(tmp, "store")
        build = [ndx_build, "--store", store, "--no-out-link", "-q", "-E", NOOP_DERIVATION]
        cpu_time(build, cwd=tmp)  # builds it once; every measured run finds it valid
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("nix-instantiate -E 1", [nix, "--eval", "-E", "1"]),
            ("ndx eval -E 1", [ndx, "eval", "-E", "1"]),
            ("ndx --help", [ndx, "--help"]),
            ("ndx-build (no-op)", build),
        ]
        times = {name: best_of(argv, options.repeat, cwd=tmp) for name, argv in rows}

    floor, reference = times["python -c pass"], times["nix-instantiate -E 1"]
    print(f"start-up CPU time, best of {options.repeat} fresh processes")
    print(f"{'command':<22} {'ms':>8} {'x Nix':>8} {'x python':>9}")
    for name, seconds in times.items():
        print(f"{name:<22} {seconds * 1000:8.1f} {seconds / reference:8.2f} "
              f"{seconds / floor:9.2f}")


if __name__ == "__main__":
    main()
