"""The editor grammars ship in the wheel: an installed ndx (not the checkout) highlights."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pygments

from .editors_corpus import REPO

PACKAGE_FOLDERS = ("lang", "evaluator", "stdlib", "grammar", "cli")
"""The folders setup.py maps to `ndx.*`."""

CHECK = """
import sys, pathlib
import ndx.grammar
assert pathlib.Path(ndx.grammar.__file__).is_relative_to(sys.argv[1]), ndx.grammar.__file__
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
lexer = get_lexer_by_name("ndx")
assert type(lexer) is type(get_lexer_for_filename("x.ndx"))
tokens = list(lexer.get_tokens('"a${ builtins.map }"'))
print(" ".join(str(token_type) for token_type, _ in tokens if _.strip()))
root = pathlib.Path(ndx.grammar.__file__).parent
for name in ("vim/syntax/ndx.vim", "vim/ftdetect/ndx.vim", "vim/ftplugin/ndx.vim",
             "vscode/package.json", "vscode/language-configuration.json",
             "vscode/syntaxes/ndx.tmLanguage.json", "ndx.tmLanguage.json"):
    assert (root / name).is_file(), name
"""


def _copy_project(destination: Path) -> None:
    """What building a wheel reads, copied so that the build leaves the checkout alone."""
    destination.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, destination / name)
    for folder in PACKAGE_FOLDERS:
        shutil.copytree(REPO / folder, destination / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "node_modules"))


def test_installed_wheel_registers_the_lexer_and_ships_the_grammars(tmp_path: Path) -> None:
    source, wheels, target = tmp_path / "source", tmp_path / "wheels", tmp_path / "site"
    _copy_project(source)
    # The backend comes from the test extra (no isolated build environment to download).
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            "--no-build-isolation", "--wheel-dir", str(wheels), str(source)],
                           capture_output=True, text=True, check=False, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("ndx-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(wheel)], check=True, capture_output=True)
    # -S: no site-packages, hence not the editable checkout; Pygments comes from its own folder.
    pygments_home = str(Path(pygments.__file__).parent.parent)
    completed = subprocess.run(
        [sys.executable, "-S", "-c", CHECK, str(target)], capture_output=True, text=True,
        env={"PYTHONPATH": f"{target}:{pygments_home}"}, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [
        "Token.Literal.String.Double", "Token.Literal.String.Double",
        "Token.Literal.String.Interpol", "Token.Name.Builtin",
        "Token.Punctuation", "Token.Name.Builtin", "Token.Literal.String.Interpol",
        "Token.Literal.String.Double"]
