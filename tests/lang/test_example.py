"""The example program (`./dev.sh example`) parses, with the same tree as in Nix."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ndx.lang import parse_file

from .nix_oracle import show

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hello.ndx"


def test_example_parses_as_in_nix() -> None:
    ours = show(parse_file(str(EXAMPLE)))
    nix = subprocess.run(["nix-instantiate", "--parse", str(EXAMPLE)], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert ours == nix


def test_example_script_prints_the_tree() -> None:
    result = subprocess.run(["sh", str(ROOT / "scripts" / "example.sh")], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("== ndx parse examples/hello.ndx\nLet(")
