"""Builtins benchmark: the hot builtins in ndx against Nix 2.8 (`nix-instantiate`), one run.

    python benchmarks/builtins.py [--repeat N] [--only NAME]

Workloads (each evaluated with `--eval --strict`; both outputs must be identical):
  attrs       listToAttrs / mapAttrs / attrNames / hasAttr / getAttr over 100,000 names
  lists       genList, filter, concatMap, elemAt, foldl' over 200,000 elements
  sort        sort with lessThan (100,000 ints) and with a lambda (30,000)
  strings     replaceStrings, concatStringsSep, substring, stringLength on 100,000 strings
  regex       match and split over 50,000 package-like names
  formats     toJSON / fromJSON of a 20,000-record document, toXML of 2,000 records

Method (as benchmarks/eval.py): each measurement is a fresh process whose CPU time
(user + system, from the children's rusage, so other load does not count) is taken; a
workload's time is the best of N runs minus the tool's start-up (the best of N runs of
the expression `1`, measured the same way in the same run). The ratio is ndx over Nix.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WORKLOADS: dict[str, str] = {
    "attrs": (
        "let s = builtins.listToAttrs (builtins.genList (i: { name = \"k${toString i}\";\n"
        "      value = i; }) 100000);\n"
        "    m = builtins.mapAttrs (n: v: v * 2) s;\n"
        "    names = builtins.attrNames m;\n"
        "in builtins.foldl' (acc: n: if builtins.hasAttr n s then acc + builtins.getAttr n m\n"
        "     else acc) 0 names\n"
    ),
    "lists": (
        "let xs = builtins.genList (i: i) 200000;\n"
        "    evens = builtins.filter (x: builtins.bitAnd x 1 == 0) xs;\n"
        "    pairs = builtins.concatMap (x: [ x (x + 1) ]) evens;\n"
        "in builtins.foldl' (acc: i: acc + builtins.elemAt pairs i) 0\n"
        "     (builtins.genList (i: i * 2) 100000)\n"
    ),
    "sort": (
        "let xs = builtins.genList (i: builtins.bitAnd (i * 7919) 65535) 100000;\n"
        "    a = builtins.sort builtins.lessThan xs;\n"
        "    b = builtins.sort (x: y: x > y) (builtins.genList (i: builtins.elemAt xs i) 30000);\n"
        "in [ (builtins.head a) (builtins.head b) (builtins.length a) ]\n"
    ),
    "strings": (
        "let items = builtins.genList (i: \"pkg-${toString i}.tar.gz\") 100000;\n"
        "    renamed = map (s: builtins.replaceStrings [ \".tar.gz\" \"-\" ] [ \"\" \"_\" ] s)\n"
        "      items;\n"
        "    text = builtins.concatStringsSep \",\" renamed;\n"
        "in { length = builtins.stringLength text; head = builtins.substring 0 30 text; }\n"
    ),
    "regex": (
        "let names = builtins.genList (i: \"pkg${toString (builtins.bitAnd i 7)}-\"\n"
        "      + \"${toString i}.${toString (builtins.bitAnd i 15)}\") 50000;\n"
        "    parsed = map (n: builtins.match \"([a-z]+[0-9]*)-([0-9]+)\\\\.([0-9]+)\" n) names;\n"
        "    parts = builtins.split \"[-.]\" (builtins.concatStringsSep \" \" names);\n"
        "in [ (builtins.length (builtins.filter (p: p != null) parsed))\n"
        "     (builtins.length parts) ]\n"
    ),
    "formats": (
        "let records = builtins.genList (i: { id = i; name = \"r${toString i}\";\n"
        "      tags = [ \"a\" \"b\" ]; score = i * 1.5; }) 20000;\n"
        "    json = builtins.toJSON records;\n"
        "    back = builtins.fromJSON json;\n"
        "    xml = builtins.toXML (builtins.genList (i: builtins.elemAt records i) 2000);\n"
        "in [ (builtins.stringLength json) (builtins.length back) (builtins.stringLength xml) ]\n"
    ),
}


def cpu_time(argv: list[str], cwd: Path) -> tuple[float, str]:
    """Run `argv`, return (its CPU seconds, its stdout); a failure stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=cwd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{proc.stderr}")
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return used, proc.stdout


def best(argv: list[str], cwd: Path, repeat: int) -> tuple[float, str]:
    runs = [cpu_time(argv, cwd) for _ in range(repeat)]
    return min(t for t, _ in runs), runs[0][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--only", choices=sorted(WORKLOADS), help="run one workload")
    args = parser.parse_args()
    nix = shutil.which("nix-instantiate")
    if nix is None:
        sys.exit("nix-instantiate is not installed (scripts/setup.sh installs nix-bin)")
    beside = Path(sys.executable).parent / "ndx"
    found = str(beside) if beside.exists() else shutil.which("ndx")
    if found is None:
        sys.exit("the ndx command is not installed (pip install -e . in the venv)")
    ndx = [found]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "one.nix").write_text("1\n")
        base_nix, _ = best([nix, "--eval", "--strict", "one.nix"], work, args.repeat)
        base_ndx, _ = best([*ndx, "eval", "--strict", "one.nix"], work, args.repeat)
        print(f"start-up: nix {base_nix:.3f}s, ndx {base_ndx:.3f}s (subtracted below)")
        print(f"{'workload':10} {'nix (s)':>9} {'ndx (s)':>9} {'ndx/nix':>8}")
        for name, text in WORKLOADS.items():
            if args.only and name != args.only:
                continue
            (work / f"{name}.nix").write_text(text)
            t_nix, out_nix = best([nix, "--eval", "--strict", f"{name}.nix"], work,
                                  args.repeat)
            t_ndx, out_ndx = best([*ndx, "eval", "--strict", f"{name}.nix"], work,
                                  args.repeat)
            if out_nix != out_ndx:
                sys.exit(f"{name}: outputs differ\n nix: {out_nix[:200]}\n ndx: {out_ndx[:200]}")
            net_nix = max(t_nix - base_nix, 1e-3)
            net_ndx = max(t_ndx - base_ndx, 1e-3)
            print(f"{name:10} {net_nix:9.3f} {net_ndx:9.3f} {net_ndx / net_nix:8.1f}")


if __name__ == "__main__":
    main()
