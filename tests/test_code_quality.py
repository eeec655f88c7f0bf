"""The code stays lint-clean and type-correct: ruff and mypy run here as part of the
suite, with the settings in pyproject.toml, so CI enforces what `./dev.sh lint` and
`./dev.sh types` show."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                            cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes_on_every_package() -> None:
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "typecheck.py")],
                            cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout
