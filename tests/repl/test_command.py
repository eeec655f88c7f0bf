"""`ndx repl` as a command with standard input that is not a terminal (`ndx repl <
script`): input runs as soon as it is complete, the options of `ndx eval` apply."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NDX = str(Path(sys.executable).parent / "ndx")


def repl(project: Path, store: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "NDX_STORE"}
    return subprocess.run([NDX, "repl", "--store", str(store), *args], input=stdin,
                          cwd=project, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_script_on_standard_input(project: Path, tmp_path: Path) -> None:
    script = ("port + 1\nlet\n  a = 1;\nin a + 41\n:t pkgs\n"
              "builtins.match \".*(echo [a-z]+).*\" (builtins.elemAt hello.args 1)\n{ oops\n")
    run = repl(project, tmp_path / "store", script, "pkgs.ndx", "--arg", "greeting",
               '"hey" + "!"')
    assert run.returncode == 0, run.stderr
    assert run.stdout == 'Added 5 variables.\n6380\n42\na set\n[ "echo hey" ]\n'
    assert "Welcome" not in run.stdout  # no banner or prompt without a terminal
    assert "error: unexpected end of file" in run.stderr  # the unfinished last input


def test_search_path_and_quit(project: Path, tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "util.ndx").write_text("{ answer = 42; }\n")
    run = repl(project, tmp_path / "store", ":l <lib/util.ndx>\nanswer\n:q\n1\n",
               "-I", f"lib={tmp_path / 'lib'}")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "Added 1 variable.\n42\n"


def test_a_file_that_does_not_load_is_reported(project: Path, tmp_path: Path) -> None:
    run = repl(project, tmp_path / "store", "1\n", "missing.ndx")
    assert run.returncode == 0
    assert "cannot load 'missing.ndx'" in run.stderr and run.stdout == "1\n"
