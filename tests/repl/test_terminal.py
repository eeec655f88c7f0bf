"""`ndx repl` through a real pseudo-terminal (tmux): what a user types and sees.

Every command, multi-line input, Ctrl-C during an evaluation, Tab completion, the
history file across sessions, errors that leave the REPL running, Ctrl-D, and the
highlighted input line."""

from __future__ import annotations

import os
import re
import tarfile

from .tmux import PROMPT, TmuxRepl


def test_expressions_bindings_and_errors(terminal: TmuxRepl) -> None:
    terminal.start()
    assert "Welcome to ndx" in terminal.screen()
    assert terminal.run("1 + 2") == "3"
    assert terminal.run("x = { a = 1 + 1; b = { c = 2; }; d = [ 1 ]; e = throw \"boom\"; }") == ""
    assert terminal.run("x") == "{ a = 2; b = { ... }; d = [ ... ]; e = «error: boom»; }"
    # An error prints as `ndx eval` prints it, and the REPL goes on.
    error = terminal.run("x.f")
    assert "error: attribute 'f' missing" in error and "^" in error
    assert terminal.run("x.a * 10") == "20"
    syntax = terminal.run("{ a = 1, }")
    assert "error: unexpected ','" in syntax
    assert "unknown command ':nope'" in terminal.run(":nope")
    assert terminal.exit_status() is None


def test_multi_line_input_continues_while_something_is_open(terminal: TmuxRepl) -> None:
    terminal.start()
    assert terminal.run("let", "  a = 1;", "  b = [ a", "    2 ];", "in b") == "[ 1 2 ]"
    screen = terminal.screen()
    assert "     ...>   b = [ a" in screen and "     ...> in b" in screen
    assert terminal.run('"first', 'second"') == '"first\\nsecond"'
    assert terminal.run("''", "  indented", "''") == '"indented\\n"'
    assert terminal.run("f = x:", "  x * 2") == ""
    assert terminal.run("f 21") == "42"
    assert terminal.run(":p {", "  a.b = 1;", "}") == "{ a = { b = 1; }; }"


def test_every_command(terminal: TmuxRepl) -> None:
    terminal.start("pkgs.ndx", "--argstr", "greeting", "hi")
    assert "Added 5 variables." in terminal.screen()
    help_text = terminal.run(":?")
    for command in (":a", ":b", ":doc", ":l", ":p", ":q", ":r", ":t"):
        assert re.search(rf"^  {re.escape(command)}\b", help_text, re.MULTILINE), command
    assert terminal.run(":t port") == "an integer"
    assert terminal.run(":t id") == "a function"
    assert terminal.run("pkgs") == '{ redis = { ... }; rest = [ ... ]; ruby = "3.1"; }'
    assert terminal.run(":p pkgs") == \
        '{ redis = { version = "7.0.15"; }; rest = [ 1 2 ]; ruby = "3.1"; }'
    assert terminal.run(":a pkgs") == "Added 3 variables."
    assert terminal.run("ruby") == '"3.1"'
    doc = terminal.run(":doc builtins.head")
    assert "Synopsis: builtins.head" in doc and "Return the first element of a list" in doc
    doc = terminal.run(":doc id")
    assert "Return its argument unchanged." in doc and "pkgs.ndx:28:8" in doc
    built = terminal.run(":b hello")
    path = re.search(r"out -> (/ndx/store/\S+-hello-text)", built)
    assert path is not None, built
    real = terminal.store / path.group(1).rsplit("/", 1)[1]
    assert (real / "bin" / "hello").read_text() == "#!/bin/sh\necho hi\n"
    image = terminal.run(":b image")
    archive = re.search(r"out -> /ndx/store/(\S+-docker-image-hello\.tar)", image)
    assert archive is not None, image
    with tarfile.open(terminal.store / archive.group(1)) as tar:
        assert "manifest.json" in tar.getnames()
    (terminal.cwd / "more.ndx").write_text("{ extra = 1; }\n")
    assert terminal.run(":l more.ndx") == "Added 1 variable."
    assert terminal.run("extra") == "1"
    # :r reads the files again; bindings made since are evaluated again too.
    assert terminal.run("twice = extra * 2") == ""
    (terminal.cwd / "more.ndx").write_text("{ extra = 50; }\n")
    assert terminal.run("twice") == "2"
    reloaded = terminal.run(":r")
    assert reloaded.splitlines() == ["Added 5 variables.", "Added 3 variables.",
                                     "Added 1 variable."]
    assert terminal.run("twice") == "100"
    terminal.type(":q")
    terminal.keys("Enter")
    assert terminal.wait_exit() == 0


def test_ctrl_c_interrupts_an_evaluation_and_the_session_goes_on(
        terminal: TmuxRepl) -> None:
    terminal.start()
    terminal.run('endless = builtins.trace "started" (builtins.length '
                 "(builtins.genericClosure { startSet = [ { key = 0; } ]; "
                 "operator = item: [ { key = item.key + 1; } ]; }))")
    before = terminal.prompts()
    terminal.type("endless")
    terminal.keys("Enter")
    terminal.wait_for(r"^trace: started$", "the evaluation starting")
    terminal.keys("C-c")
    terminal.wait_for(lambda screen: screen.rstrip().endswith(PROMPT)
                      and screen.count(PROMPT) > before, "the prompt after Ctrl-C")
    assert "error: interrupted" in terminal.last_output()
    assert terminal.run("1 + 1") == "2"
    # The interrupted value is not left half-evaluated: forcing it again starts over
    # (an "infinite recursion" here would mean a thunk stayed blackholed).
    terminal.type("endless")
    terminal.keys("Enter")
    terminal.wait_for(lambda screen: screen.count("trace: started") == 2,
                      "the evaluation starting again")
    terminal.keys("C-c")
    terminal.wait_for(lambda screen: screen.count("error: interrupted") == 2,
                      "the second interrupt")
    assert "infinite recursion" not in terminal.screen()


def test_ctrl_c_interrupts_a_build_and_kills_its_builder(terminal: TmuxRepl) -> None:
    marker = f"ndx-repl-test-{terminal.directory.parent.name}"
    (terminal.cwd / "slow.ndx").write_text(f"""{{
  slow = derivation {{
    name = "slow";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    __impureHostDeps = [ "/bin" "/lib" "/lib64" "/usr" ];
    PATH = "/bin:/usr/bin";
    args = [ "-c" "echo builder started; sleep 1000; touch $out # {marker}" ];
  }};
}}
""")
    terminal.start("slow.ndx")
    before = terminal.prompts()
    terminal.type(":b slow")
    terminal.keys("Enter")
    terminal.wait_for(r"^slow> builder started$", "the builder starting")
    terminal.keys("C-c")
    terminal.wait_for(lambda screen: screen.rstrip().endswith(PROMPT)
                      and screen.count(PROMPT) > before, "the prompt after Ctrl-C")
    assert terminal.last_output().splitlines()[-1] == "error: interrupted"
    assert not any(marker in _command_line(pid) for pid in os.listdir("/proc")
                   if pid.isdigit())
    assert terminal.run("1 + 1") == "2"


def _command_line(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read().decode(errors="replace")
    except OSError:
        return ""


def test_ctrl_c_while_typing_discards_the_input(terminal: TmuxRepl) -> None:
    terminal.start()
    terminal.type("let a = 1;")
    terminal.keys("Enter")
    terminal.type("in nothing")
    terminal.cancel()
    assert terminal.run("2 * 3") == "6"
    assert "undefined variable" not in terminal.screen()


def test_tab_completes_names_attribute_paths_and_commands(terminal: TmuxRepl) -> None:
    terminal.start("pkgs.ndx")
    # One candidate: completed in place.
    terminal.type("pkgs.red")
    terminal.keys("Tab")
    terminal.wait_for(r"^ndx-repl> pkgs\.redis$", "pkgs.redis completed")
    assert terminal.run(".version") == '"7.0.15"'
    # Several candidates: a menu shows them all.
    terminal.type("pkgs.r")
    terminal.keys("Tab")
    screen = terminal.wait_for(lambda s: all(c in s for c in ("pkgs.redis", "pkgs.rest",
                                                               "pkgs.ruby")), "the menu")
    assert "pkgs.rest" in screen
    terminal.cancel()
    # Builtins and session names.
    terminal.type("builtins.attrNa")
    terminal.keys("Tab")
    terminal.wait_for(r"^ndx-repl> builtins\.attrNames$", "builtins.attrNames")
    assert terminal.run(" pkgs") == '[ "redis" "rest" "ruby" ]'
    terminal.type("por")
    terminal.keys("Tab")
    terminal.wait_for(r"^ndx-repl> port$", "a name in scope")
    assert terminal.run("") == "6379"
    terminal.type(":do")
    terminal.keys("Tab")
    terminal.wait_for(r"^ndx-repl> :doc$", "a command")
    terminal.cancel()


def test_history_persists_across_sessions(terminal: TmuxRepl) -> None:
    history = terminal.home / ".local" / "state" / "ndx" / "repl_history"
    terminal.start()
    terminal.run("let", "  x = 1;", "in x")
    terminal.run("40 + 2")
    terminal.keys("C-d")
    assert terminal.wait_exit() == 0
    text = history.read_text()
    assert "+40 + 2" in text and "+let\n+  x = 1;\n+in x" in text
    terminal.start()  # a new process reads the file
    terminal.keys("Up")
    terminal.wait_for(r"^ndx-repl> 40 \+ 2$", "the last entry recalled")
    terminal.keys("Up")
    terminal.wait_for(r"^ndx-repl> let\n     \.\.\.>   x = 1;\n     \.\.\.> in x$",
                      "the multi-line entry recalled")
    assert terminal.run("") == "1"  # Enter runs the recalled entry


def test_ctrl_d_exits_only_on_an_empty_line(terminal: TmuxRepl) -> None:
    terminal.start()
    terminal.type("12")
    terminal.keys("C-d")  # deletes forward: nothing under the cursor, the REPL stays
    assert terminal.run("3") == "123"
    terminal.keys("C-d")
    assert terminal.wait_exit() == 0


def test_the_input_line_is_highlighted(terminal: TmuxRepl) -> None:
    terminal.start()
    terminal.type('let s = "text"; in s')
    terminal.wait_for(r'^ndx-repl> let s = "text"; in s$', "the typed line")
    line = next(line for line in terminal.colored().splitlines() if line.startswith(PROMPT))
    keyword, string = _colour_before(line, "let"), _colour_before(line, '"text"')
    assert "38;" in keyword and "38;" in string and keyword != string, repr(line)
    terminal.cancel()


def _colour_before(line: str, text: str) -> str:
    """The last foreground-colour escape sequence before `text` in `line`."""
    head = line[:line.index(text)]
    return re.findall(r"\x1b\[[0-9;]*38;[0-9;]*m", head)[-1]
