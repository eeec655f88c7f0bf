"""The REPL session in-process: printing, bindings, every command's meaning and its
errors, reloading. (tests/repl/test_terminal.py drives the same through a terminal.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from ndx.cli.eval import run_eval

from .conftest import Captured


def test_values_print_one_level_deep_forcing_only_what_is_shown(
        session: Captured, capsys: pytest.CaptureFixture[str]) -> None:
    shown = session.value('{ a = builtins.trace "forced a" 1; b = { c = builtins.trace '
                          '"forced c" 2; }; d = [ (builtins.trace "forced d" 3) ]; e = '
                          'throw "boom"; f = [ ]; g = { }; h = x: x; i = builtins.head; }')
    assert shown == ('{ a = 1; b = { ... }; d = [ ... ]; e = «error: boom»; f = [ ]; '
                     'g = { }; h = <LAMBDA>; i = <PRIMOP>; }')
    traces = capsys.readouterr().err
    assert "forced a" in traces and "forced c" not in traces and "forced d" not in traces
    assert session.value('[ 1 "two" { } [ 3 ] (abort "no") ]') == \
        ('[ 1 "two" { } [ ... ] «error: evaluation aborted with the following error '
         "message: 'no'» ]")
    assert session.value('"a\\nb ${"$"}{x}"') == '"a\\nb \\${x}"'
    assert session.value("./pkgs.ndx") == str(Path(session.session.base_dir) / "pkgs.ndx")
    assert session.value("1.5") == "1.5"
    assert session.value("null") == "null"


def test_print_deep_is_ndx_eval_strict(session: Captured) -> None:
    text = '{ b = { c = [ 1 { d = "x"; } ]; }; a = 1 + 1; }'
    expected = run_eval(None, text, strict=True).stdout.rstrip("\n")
    assert session.value(f":p {text}") == expected == \
        '{ a = 2; b = { c = [ 1 { d = "x"; } ]; }; }'
    out, err = session.run(':p { a = { b = throw "deep"; }; }')
    assert out == "" and "error: deep" in err


def test_a_derivation_prints_as_its_drv_path(session: Captured) -> None:
    session.session.load("pkgs.ndx")
    shown = session.value("hello")
    assert shown.startswith("«derivation /ndx/store/") and shown.endswith("-hello-text.drv»")
    assert session.value("{ inherit hello; }") == f"{{ hello = {shown}; }}"


def test_errors_print_as_ndx_eval_prints_them(session: Captured) -> None:
    for text in ["{ a = 1; }.b", "1 + \"x\"", "let f = { a }: a; in f { }", "{ a = 1, }",
                 "undefinedName"]:
        out, err = session.run(text)
        assert out == ""
        assert err == run_eval(None, text).stderr, text
        assert session.last_result is True


def test_show_trace(session: Captured) -> None:
    text = "let f = x: x.missing; g = y: f y; in g { }"
    session.session.show_trace = True
    _, err = session.run(text)
    assert err == run_eval(None, text, show_trace=True).stderr
    assert "while evaluating" in err or "trace:" in err


def test_bindings_are_lazy_recursive_and_shadow(session: Captured) -> None:
    assert session.run('boom = throw "not yet"') == ("", "")
    assert "not yet" in session.run("boom")[1]
    assert session.run("fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2)") == ("", "")
    assert session.value("fib 15") == "610"
    session.run("x = 1")
    session.run("y = x + 1")
    session.run("x = 10")
    assert session.value("y") == "2"  # y saw the x of its time
    assert session.value("x") == "10"
    session.run("map = 3")  # a binding hides a builtin
    assert session.value("map") == "3"
    assert session.value("builtins.length (builtins.map (a: a) [ 1 ])") == "1"
    _, err = session.run("z = z + 1")
    assert err == ""
    assert "infinite recursion" in session.run("z")[1]
    # A binding whose text does not compile binds nothing.
    _, err = session.run("w = nowhere + 1")
    assert "undefined variable 'nowhere'" in err
    assert "undefined variable 'w'" in session.run("w")[1]


def test_load_with_arguments_and_the_search_path(session: Captured) -> None:
    assert session.value(":l pkgs.ndx") == "Added 5 variables."
    assert "echo hi" in session.value(":p builtins.elemAt hello.args 1")  # --argstr
    assert session.value("port") == "6379"
    assert session.value(":t import <ndx/fetch/fetchurl.ndx>") == "a function"


def test_load_errors(session: Captured, project: Path) -> None:
    assert "cannot load 'missing.ndx'" in session.run(":l missing.ndx")[1]
    (project / "list.ndx").write_text("[ 1 ]\n")
    assert "should evaluate to a set, but it is a list" in session.run(":l list.ndx")[1]
    (project / "bad.ndx").write_text("{ a = ; }\n")
    _, err = session.run(":l bad.ndx")
    assert "bad.ndx:1:7: error: unexpected ';'" in err
    (project / "needs.ndx").write_text("{ required }: { inherit required; }\n")
    assert "'--arg required EXPR'" in session.run(":l needs.ndx")[1]
    assert "should evaluate to a set, but it is an integer" in session.run(":a 1")[1]


def test_reload_reads_files_again_and_replays_in_order(session: Captured,
                                                       project: Path) -> None:
    (project / "a.ndx").write_text("{ v = 1; w = 1; }\n")
    session.run(":l a.ndx")
    session.run("double = v * 2")
    session.run(":a { w = 5; }")
    assert (session.value("double"), session.value("w")) == ("2", "5")
    (project / "a.ndx").write_text("{ v = 21; w = 2; }\n")
    assert session.value("v") == "1"  # files are read again only on :r
    assert session.value(":r") == "Added 2 variables.\nAdded 1 variable."
    assert (session.value("double"), session.value("w")) == ("42", "5")
    # A file broken in the meantime is reported; the rest is loaded; fixing it and
    # reloading again brings it back.
    (project / "a.ndx").write_text("{ v = ; }\n")
    out, err = session.run(":r")
    assert "a.ndx:1:7: error" in err and out == "Added 1 variable.\n"
    assert "undefined variable 'v'" in session.run("v")[1]
    (project / "a.ndx").write_text("{ v = 4; }\n")
    session.run(":r")
    assert session.value("double") == "8"


def test_type(session: Captured) -> None:
    for text, expected in [("1", "an integer"), ('"s"', "a string"), ("[ ]", "a list"),
                           ("{ }", "a set"), ("x: x", "a function"), ("null", "null"),
                           ("true", "a Boolean"), ("1.0", "a float"), ("./.", "a path"),
                           ("builtins.head", "the built-in function 'head'")]:
        assert session.value(f":t {text}") == expected


def test_build_needs_a_derivation(session: Captured) -> None:
    _, err = session.run(":b 1")
    assert "':b' needs a derivation (or a set or list of them), but '1' is an integer" in err


def test_commands_used_wrongly(session: Captured) -> None:
    assert "unknown command ':x'" in session.run(":x")[1]
    assert "':t' needs an argument: :t EXPR" in session.run(":t")[1]
    assert "':l' needs an argument: :l FILE" in session.run(":l")[1]
    assert "':q' takes no argument" in session.run(":q now")[1]
    assert session.run(":quit") == ("", "") and session.last_result is False
    assert session.run(":q") == ("", "") and session.last_result is False
    assert session.run("") == ("", "") and session.last_result is True


def test_help_lists_every_command(session: Captured) -> None:
    from ndx.cli.repl.session import ALIASES, COMMANDS

    text = session.value(":?")
    assert session.value(":help") == text
    for name, _, what in COMMANDS:
        assert f"  {name}" in text and what in text
    assert set(ALIASES.values()) <= {name for name, _, _ in COMMANDS}
