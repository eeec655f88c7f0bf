"""Golden tests of `ndx eval`: what users see, byte for byte.

    tests/golden/eval/okay-<x>.ndx  + .exp   stdout of a successful evaluation
    tests/golden/eval/fail-<x>.ndx  + .err   the error output (exit status 1)

A case may start with `# flags: …` (e.g. `--strict`, `--show-trace`). Paths in the output
are shown relative to the golden directory. After a deliberate change, regenerate the
expected files with `pytest tests/golden --update-golden` and review the diff.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from ndx.cli.eval import run_argv

GOLDEN_DIR = Path(__file__).parent / "eval"
CASES = sorted(GOLDEN_DIR.glob("okay-*.ndx")) + sorted(GOLDEN_DIR.glob("fail-*.ndx"))


def _flags(case: Path) -> list[str]:
    first = case.read_text(encoding="utf-8").split("\n", 1)[0]
    if first.startswith("# flags:"):
        return shlex.split(first[len("# flags:"):])
    return []


def _run(case: Path) -> tuple[str, int]:
    result = run_argv([*_flags(case), case.name], base_dir=str(GOLDEN_DIR))
    prefix = str(GOLDEN_DIR) + "/"
    if case.name.startswith("okay-"):
        return result.stdout.replace(prefix, ""), result.exit_code
    return result.stderr.replace(prefix, ""), result.exit_code


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir_eval(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """ndx's caches (parse table, parsed files) go to a temporary directory, not the
    user's ~/.cache, while these tests run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NDX_CACHE_DIR", str(tmp_path_factory.mktemp("ndx-cache")))
        yield


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN_DIR)
    output, status = _run(case)
    okay = case.name.startswith("okay-")
    expected_file = case.with_suffix(".exp" if okay else ".err")
    if update_golden:
        expected_file.write_text(output, encoding="utf-8")
    assert status == (0 if okay else 1), output
    assert expected_file.exists(), f"{expected_file.name} missing: run with --update-golden"
    assert output == expected_file.read_text(encoding="utf-8")
