"""The library written in ndx (lib, stdenv.mkDerivation, overrides, fetchurl, trivial
builders, the package set), checked through its own case files tests/packages/ndx/*.ndx.

Each case file is a set `{ testName = { expr; expected; }; }`; `lib.runTests` lists the
cases whose expr differs from expected. The files are plain Nix, so Nix 2.8 evaluates them
as the oracle (`--readonly-mode`: derivations are instantiated, nothing is written to a
store), and ndx evaluates the same files: both must find every case holding.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ndx.cli.eval import run_eval

ROOT = Path(__file__).resolve().parents[2]
NDX_LIB = ROOT / "stdlib" / "ndx"
CASES = sorted((Path(__file__).parent / "ndx").glob("*-tests.ndx"))


def failing_cases(case_file: Path, evaluator: str = "nix") -> list[dict[str, object]]:
    """The cases of `case_file` whose expr differs from expected, as `evaluator` ("nix" or
    "ndx") evaluates them."""
    expr = f"""
      let
        pkgs = import {NDX_LIB}/default.ndx {{ }};
        f = import {case_file};
        cases = f (builtins.intersectAttrs (builtins.functionArgs f) {{ inherit pkgs; inherit (pkgs) lib; }});
      in
      map (c: c // {{ expected = builtins.toJSON c.expected; result = builtins.toJSON c.result; }})
        (pkgs.lib.runTests cases)
    """
    if evaluator == "ndx":
        # A memory store: the same derivation paths as on disk, nothing written or built.
        evaluated = run_eval(None, expr, strict=True, json=True)
        assert evaluated.exit_code == 0, evaluated.stderr
        output = evaluated.stdout
    else:
        result = subprocess.run(
            ["nix-instantiate", "--readonly-mode", "--eval", "--strict", "--json", "-E", expr],
            check=False, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        output = result.stdout
    failures: list[dict[str, object]] = json.loads(output)
    return failures


@pytest.mark.parametrize("evaluator", ["nix", "ndx"])
@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_every_case_holds(case_file: Path, evaluator: str) -> None:
    failures = failing_cases(case_file, evaluator)
    assert failures == [], "\n".join(
        f"{f['name']}: expected {f['expected']}, got {f['result']}" for f in failures)


def test_case_files_exist() -> None:
    assert {c.stem for c in CASES} >= {"lib-tests", "override-tests"}


@pytest.mark.parametrize("evaluator", ["nix", "ndx"])
def test_a_wrong_expectation_is_reported(tmp_path: Path, evaluator: str) -> None:
    case = tmp_path / "wrong-tests.ndx"
    case.write_text("{ lib }: { testRight = { expr = lib.id 1; expected = 1; };"
                    " testWrong = { expr = lib.optional true 1; expected = [ ]; }; }")
    assert failing_cases(case, evaluator) == [
        {"name": "testWrong", "expected": "[]", "result": "[1]"}]
