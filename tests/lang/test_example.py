"""examples/hello.ndx parses, with the same tree as in Nix. (The examples are built and run in
tests/packages/test_examples_e2e.py. The redis examples' `let … inherit (pkgs) …` blocks
print in an order of Nix's symbol table that depends on its memory layout, so they are not
compared here.)"""

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

