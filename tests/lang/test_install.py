"""`pip install .` (a real wheel, not editable) into a fresh venv gives a working
`ndx parse` that finds its grammar as package data, run from outside the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Runtime dependencies lent from this environment, so the test needs no download.
DEPENDENCIES = ["lark", "click", "zstandard"]


def _copy_checkout(target: Path) -> None:
    anywhere = shutil.ignore_patterns("*.egg-info", "__pycache__", ".hypothesis",
                                      ".pytest_cache")
    # Only at the top: stdlib/build is a package, build/ and dist/ are leftovers.
    top = shutil.ignore_patterns(".venv", ".git", "build", "dist", "result*", ".cache")

    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = anywhere(directory, names)
        if Path(directory) == ROOT:
            ignored |= top(directory, names)
        return ignored

    # Symlinks stay symlinks: test data holds a dangling one on purpose.
    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with ndx installed from a wheel built from a copy of the checkout."""
    work = tmp_path_factory.mktemp("install")
    _copy_checkout(work / "src")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps",
                    str(work / "src")], check=True, env=env, cwd=work, timeout=600)
    # The dependencies come from this environment through a .pth file listing a folder
    # of links to them (and nothing of ndx).
    lent = work / "lent"
    lent.mkdir()
    here = Path(sysconfig.get_paths()["purelib"])
    for name in DEPENDENCIES:
        module = __import__(name)
        package_dir = Path(module.__file__).parent  # type: ignore[arg-type]
        (lent / name).symlink_to(package_dir, target_is_directory=True)
    site = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (site / "ndx_test_lent_dependencies.pth").write_text(str(lent) + "\n")
    assert here != site
    return venv


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["NDX_CACHE_DIR"] = str(cwd / "cache")
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_installed_package_is_the_wheel_not_the_checkout(installed: Path,
                                                         tmp_path: Path) -> None:
    result = _run(installed, str(installed / "bin" / "python"), "-c",
                  "import ndx.lang, ndx.grammar, importlib.resources as r;"
                  "print(ndx.lang.__file__);"
                  "print(r.files('ndx.grammar').joinpath('ndx.lark').is_file())",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    location, has_grammar = result.stdout.split()
    assert location.startswith(str(installed)), location
    assert not location.startswith(str(ROOT))
    assert has_grammar == "True"


def test_installed_ndx_parse_runs_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    program = tmp_path / "hello.ndx"
    program.write_text('{ greeting = "hello ${name}"; }\n')
    result = _run(installed, str(installed / "bin" / "ndx"), "parse", str(program),
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Interpolation([Str('hello '), Var('name')])" in result.stdout

    program.write_text("{ port = 6379 }\n")
    result = _run(installed, str(installed / "bin" / "ndx"), "parse", str(program),
                  cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{program}:1:15: error: unexpected '}}', expected ';'")
