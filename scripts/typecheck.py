"""Run mypy on ndx's packages as they are installed (`ndx.lang`, `ndx.evaluator`, …).

The repository's folders (lang/, evaluator/, …) become `ndx.*` only when installed, and
the editable install's import hook is invisible to mypy; so this makes a throw-away tree
`ndx/<folder>` of symbolic links to the folders and points mypy at it. The settings are
pyproject.toml's [tool.mypy].

    python scripts/typecheck.py [PACKAGE…]     (default: the checked packages below)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The packages whose types are checked (all of them; tests/test_code_quality.py keeps it so).
CHECKED = ("lang", "evaluator", "stdlib", "grammar", "cli")
#: Every folder that becomes `ndx.<folder>`, so imports between them resolve.
FOLDERS = ("lang", "evaluator", "stdlib", "grammar", "cli")


def main(argv: list[str]) -> int:
    packages = argv or list(CHECKED)
    with tempfile.TemporaryDirectory(prefix="ndx-typecheck-") as tmp:
        (Path(tmp) / "ndx").mkdir()
        for folder in FOLDERS:
            os.symlink(REPO / folder, Path(tmp) / "ndx" / folder)
        args = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml")]
        for package in packages:
            args += ["-p", f"ndx.{package}"]
        env = {**os.environ, "MYPYPATH": tmp}
        return subprocess.run(args, cwd=REPO, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
