"""`import`, `scopedImport` and the search path."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndx.cli.eval import run_argv, search_path_from
from ndx.evaluator.context import EvalContext, parse_search_path
from ndx.evaluator.errors import EvalError
from ndx.evaluator.printer import print_value

from .conftest import evaluate_text


def test_each_file_is_evaluated_once_per_context(tmp_path: Path) -> None:
    (tmp_path / "lib.ndx").write_text("{ value = [ 1 ]; }")
    ctx = EvalContext()
    value = evaluate_text("[ (import ./lib.ndx) (import ./lib.ndx) ]", ctx,
                          base_dir=str(tmp_path))
    assert value[0].value is value[1].value


def test_directory_import_prefers_default_ndx(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "default.nix").write_text('"nix"')
    assert evaluate_text("import ./pkg", base_dir=str(tmp_path)) == "nix"
    (pkg / "default.ndx").write_text('"ndx"')
    assert evaluate_text("import ./pkg", base_dir=str(tmp_path)) == "ndx"


def test_relative_paths_resolve_against_the_importing_file(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "a.ndx").write_text("import ./b.ndx")
    (sub / "b.ndx").write_text("./data")
    assert evaluate_text("import ./sub/a.ndx", base_dir=str(tmp_path)).path == \
        str(sub / "data")


def test_scoped_import_adds_names_and_is_not_cached(tmp_path: Path) -> None:
    (tmp_path / "f.ndx").write_text("x * 2")
    value = evaluate_text("[ (scopedImport { x = 1; } ./f.ndx) (scopedImport { x = 5; } ./f.ndx) ]",
                          base_dir=str(tmp_path))
    assert print_value(value) == "[ 2 10 ]"


def test_a_file_importing_itself_is_infinite_recursion(tmp_path: Path) -> None:
    (tmp_path / "loop.ndx").write_text("import ./loop.ndx")
    with pytest.raises(EvalError, match="infinite recursion"):
        evaluate_text("import ./loop.ndx", base_dir=str(tmp_path))


def test_search_path_parsing_like_nix_path() -> None:
    assert parse_search_path("nixpkgs=/a/b:/c:x=https://h/y.tar.gz") == [
        ("nixpkgs", "/a/b"), ("", "/c"), ("x", "https://h/y.tar.gz")]


def test_include_flags_come_before_ndx_path(tmp_path: Path) -> None:
    entries = search_path_from(["a=rel"], {"NDX_PATH": "b=/abs"}, str(tmp_path))
    assert entries == [("a", str(tmp_path / "rel")), ("b", "/abs")]


def test_angle_brackets_use_the_search_path(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "default.ndx").write_text('"from lib"')
    monkeypatch.setenv("NDX_PATH", f"mylib={tmp_path / 'lib'}")
    result = run_argv(["-E", "import <mylib>"])
    assert (result.stdout, result.exit_code) == ('"from lib"\n', 0)


def test_evaluate_string_with_extra_variables_shadowing_builtins() -> None:
    ctx = EvalContext()
    value = ctx.evaluate_string("x + (if true then 1 else 0)",
                                variables={"x": 41, "true": False})
    assert value == 41


def test_eval_of_an_angle_bracket_argument_uses_the_search_path(tmp_path: Path) -> None:
    (tmp_path / "default.ndx").write_text('"found"')
    result = run_argv(["-I", f"here={tmp_path}", "<here>"])
    assert (result.stdout, result.exit_code) == ('"found"\n', 0)
