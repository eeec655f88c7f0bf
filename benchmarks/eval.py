"""Evaluator benchmark: ndx against Nix 2.8 (`nix-instantiate`), side by side, one run.

    python benchmarks/eval.py [--repeat N] [--only NAME]

Workloads (each evaluated with `--eval --strict`, output checked identical):
  fib25       naive `fib 25`
  list200k    build a 200,000-element list with genList/map and fold it with foldl'
  attrs5000   a 5,000-attribute `rec` set through mapAttrs, `//` chains and attrNames
  strings     string building with interpolation and concatStringsSep
  realistic   benchmarks/eval/realistic.ndx: a `lib` and a fix-point package set with
              overlays (about 5,000 lines of ndx)

Method: every run is a fresh process of the tool; its CPU time (user + system, from
the children's rusage, so other load on the machine does not count) is measured; each
workload's time is the best of N runs minus the tool's start-up, which is the best of N
runs of the trivial expression `1` measured the same way in the same run. The ratio is
ndx's time over Nix's.

ndx keeps parsed files in a persistent cache (like Python's .pyc), so from the second
run on a file is not parsed again; the "cold" column runs ndx with the cache off
(NDX_PARSE_CACHE=0), i.e. parsing every time, as a first run does.
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

HERE = Path(__file__).parent / "eval"


def _attrs_workload(n: int = 5000) -> str:
    bindings = " ".join(f"a{i} = {'0' if i == 0 else f'a{i - 1} + 1'};" for i in range(n))
    return (
        f"let s = rec {{ {bindings} }};\n"
        "  doubled = builtins.mapAttrs (name: v: v * 2) s;\n"
        "  chained = s // doubled // { extra = 1; } // builtins.mapAttrs (n: v: v + 1) doubled;\n"
        "  names = builtins.attrNames chained;\n"
        f"in {{ count = builtins.length names; last = chained.a{n - 1}; "
        "first = builtins.head names; sum = builtins.foldl' (acc: n: acc + chained.${n}) 0 names; }\n"
    )


WORKLOADS: dict[str, str] = {
    "fib25": "let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib 25\n",
    "list200k": (
        "let xs = builtins.genList (i: i * 3) 200000;\n"
        "    ys = builtins.map (x: x + 1) xs;\n"
        "in builtins.foldl' (acc: x: acc + x) 0 ys\n"
    ),
    "attrs5000": _attrs_workload(),
    "strings": (
        "let items = builtins.genList (i: \"item-${toString i}: ${toString (i * i)}\") 20000;\n"
        "    lines = builtins.map (s: \"<${s}>\") items;\n"
        "    text = builtins.concatStringsSep \"\\n\" lines;\n"
        "in { length = builtins.stringLength text; tail = builtins.substring 0 40 text; }\n"
    ),
}


def cpu_time(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run `argv`, return (its CPU seconds, its stdout); a failure stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{proc.stderr}")
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return used, proc.stdout


def best(argv: list[str], cwd: Path, repeat: int,
         env: dict[str, str] | None = None) -> tuple[float, str]:
    runs = [cpu_time(argv, cwd, env) for _ in range(repeat)]
    return min(t for t, _ in runs), runs[0][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--only", action="append", help="run only this workload")
    options = parser.parse_args()
    if shutil.which("nix-instantiate") is None:
        sys.exit("nix-instantiate is needed (scripts/setup.sh installs nix-bin)")
    nix = ["nix-instantiate", "--eval", "--strict"]
    ndx = [sys.executable, "-c", "from ndx.cli.main import main; main()", "eval", "--strict"]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        files: dict[str, Path] = {}
        for name, text in WORKLOADS.items():
            files[name] = workdir / f"{name}.ndx"
            files[name].write_text(text, encoding="utf-8")
        files["realistic"] = HERE / "realistic.ndx"
        trivial = workdir / "trivial.ndx"
        trivial.write_text("1\n", encoding="utf-8")
        cold_env = {**os.environ, "NDX_PARSE_CACHE": "0"}
        nix_start, _ = best([*nix, str(trivial)], workdir, options.repeat)
        ndx_start, _ = best([*ndx, str(trivial)], workdir, options.repeat)
        print(f"start-up (subtracted): nix {nix_start * 1000:.0f} ms, "
              f"ndx {ndx_start * 1000:.0f} ms; CPU time, best of {options.repeat}")
        print(f"{'workload':<12} {'nix ms':>9} {'ndx ms':>9} {'ndx/nix':>8} "
              f"{'cold ms':>9} {'cold/nix':>9}")
        for name, path in files.items():
            if options.only and name not in options.only:
                continue
            nix_time, nix_out = best([*nix, str(path)], path.parent, options.repeat)
            ndx_time, ndx_out = best([*ndx, str(path)], path.parent, options.repeat)
            cold_time, _ = best([*ndx, str(path)], path.parent, options.repeat, cold_env)
            if nix_out != ndx_out:
                sys.exit(f"{name}: outputs differ\nnix: {nix_out[:300]}\nndx: {ndx_out[:300]}")
            nix_net = max(nix_time - nix_start, 1e-3)
            ndx_net = max(ndx_time - ndx_start, 1e-3)
            cold_net = max(cold_time - ndx_start, 1e-3)
            print(f"{name:<12} {nix_net * 1000:>9.0f} {ndx_net * 1000:>9.0f} "
                  f"{ndx_net / nix_net:>7.1f}x {cold_net * 1000:>9.0f} "
                  f"{cold_net / nix_net:>8.1f}x")


if __name__ == "__main__":
    main()
