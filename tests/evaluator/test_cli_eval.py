"""`ndx eval` as a command: exit status, output streams, flags."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ndx.cli.eval import run_argv
from ndx.cli.main import cli


def test_success_prints_value_and_exits_zero() -> None:
    result = run_argv(["-E", "{ a = 1 + 1; }"])
    assert (result.stdout, result.exit_code) == ("{ a = <CODE>; }\n", 0)
    assert run_argv(["--strict", "-E", "{ a = 1 + 1; }"]).stdout == "{ a = 2; }\n"


def test_errors_go_to_stderr_with_location_and_exit_one() -> None:
    result = run_argv(["-E", "1 + true"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("«string»:1:1: error: cannot add a Boolean to an integer")
    assert "^^^^^^^^" in result.stderr


def test_show_trace_shows_every_frame() -> None:
    text = "let f = x: x.a; g = y: f y; in g { }"
    short = run_argv(["-E", text]).stderr
    full = run_argv(["--show-trace", "-E", text]).stderr
    assert "use '--show-trace'" in short
    assert full.count("trace:") > short.count("trace:")
    assert "from call site" in full


def test_file_and_attribute_path(tmp_path: Path) -> None:
    (tmp_path / "x.ndx").write_text("{ a.b = [ 1 2 ]; }")
    assert run_argv(["-A", "a.b.1", str(tmp_path / "x.ndx")]).stdout == "2\n"


def test_auto_call_with_arg_and_argstr() -> None:
    result = run_argv(["--arg", "n", "2", "--argstr", "s", "x", "-E",
                       '{ n, s, d ? "default" }: "${s}${toString n}${d}"'])
    assert result.stdout == '"x2default"\n'


def test_exactly_one_of_file_or_expression() -> None:
    assert run_argv([]).exit_code == 1


def test_the_click_command_exits_with_the_status() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["eval", "-E", "throw \"no\""]).exit_code == 1
    ok = runner.invoke(cli, ["eval", "--strict", "-E", "[ 1 ]"])
    assert (ok.exit_code, ok.output) == (0, "[ 1 ]\n")


def test_json_failing_part_way_keeps_what_nix_prints() -> None:
    """`nix-instantiate --eval --json` streams its output: on an error the beginning
    stays on stdout with the open sets and lists closed (no newline), the error goes to
    stderr, and the status is 1; the same without --strict, where a part not yet
    evaluated is the error."""
    strict = run_argv(["--strict", "--json", "-E", '{ a = 1; b = throw "x"; }'])
    assert (strict.stdout, strict.exit_code) == ('{"a":1,"b":}', 1)
    assert "error: x" in strict.stderr
    lazy = run_argv(["--json", "-E", "{ a = 1; b = { c = 1; }; d = throw \"x\"; }"])
    assert (lazy.stdout, lazy.exit_code) == ('{"a":1,"b":}', 1)
    assert "1:10: error: cannot convert a thunk to JSON" in lazy.stderr
    nested = run_argv(["--strict", "--json", "-E", '[ 1 [ 2 (throw "deep") ] 3 ]'])
    assert nested.stdout == "[1,[2,]]"
    assert run_argv(["--strict", "--json", "-E", 'throw "x"']).stdout == ""


def test_results_of_earlier_attribute_paths_stay_printed() -> None:
    result = run_argv(["--strict", "-A", "a", "-A", "b", "-E", '{ a = 1; b = throw "b"; }'])
    assert (result.stdout, result.exit_code) == ("1\n", 1)


def test_an_arg_is_parsed_at_once_even_if_never_used() -> None:
    """Nix parses every `--arg` before evaluating anything: a syntax error or an
    undefined variable in one is reported (naming the --arg) even when no function
    asks for it, and before the program's own errors."""
    unused = run_argv(["--arg", "x", "1 +", "-E", "1"])
    assert (unused.stdout, unused.exit_code) == ("", 1)
    assert unused.stderr.startswith("«--arg x»:1:4: error: unexpected end of file")
    first = run_argv(["--arg", "y", "undefinedVar", "-E", "("])
    assert first.stderr.startswith("«--arg y»:1:1: error: undefined variable 'undefinedVar'")
    assert run_argv(["--arg", "x", "throw \"lazy\"", "-E", "1"]).stdout == "1\n"


def test_args_fill_a_file_function_with_defaults(tmp_path: Path) -> None:
    (tmp_path / "f.ndx").write_text('{ a ? 1, b ? 2 }: "${toString a}-${b}"')
    file = str(tmp_path / "f.ndx")
    assert run_argv([file, "--arg", "b", '"x"']).stdout == '"1-x"\n'
    assert run_argv([file, "--argstr", "b", "y", "--arg", "a", "./."],
                    base_dir=str(tmp_path)).stdout == f'"{tmp_path}-y"\n'
    assert run_argv([file, "--arg", "c", "10", "--argstr", "b", "z"]).stdout == '"1-z"\n'
    relative = run_argv(["--strict", "--arg", "p", "./f.ndx", "-E", "{ p }: p"],
                        base_dir=str(tmp_path))
    assert relative.stdout == f"{tmp_path}/f.ndx\n"
