"""`ndx repl` in a real pseudo-terminal: a private tmux server (its own socket, its own
config) whose one pane runs the REPL. Tests type keys (`type`, `keys`) and read the
screen as the user sees it (`screen`, or `colored` with the colour escapes).

Waiting is polling the screen until what is expected shows up; the deadline only stops
a hung REPL from hanging the suite, it is not what a test checks.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

PROMPT = "ndx-repl>"
CONTINUATION = "     ...>"
DEADLINE = float(os.environ.get("NDX_TEST_REPL_DEADLINE", "120"))
"""Seconds before a wait gives up and fails the test with the screen in the message."""

CONFIG = """\
set -g remain-on-exit on
set -g history-limit 50000
set -g status off
"""


class TmuxRepl:
    """One `ndx repl` in a tmux pane (see the module docstring)."""

    def __init__(self, directory: Path, *, cwd: Path, home: Path, store: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.cwd = cwd
        self.home = home
        self.store = store
        self.socket = ""
        self.status_file = directory / "status"
        self.config = directory / "tmux.conf"
        self.config.write_text(CONFIG)
        self.started = False

    # ------------------------------------------------------------ life cycle

    def start(self, *args: str, width: int = 160, height: int = 50) -> None:
        """Run `ndx repl ARGS…` and wait for its first prompt."""
        script = self.directory / f"run-{len(list(self.directory.glob('run-*')))}.sh"
        env = {"HOME": str(self.home), "NDX_STORE": str(self.store),
               "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
               "LANG": "C.UTF-8"}
        for name in ("NDX_DEBUG", "PYTHONPATH"):
            if name in os.environ:
                env[name] = os.environ[name]
        lines = ["#!/bin/sh", "unset XDG_STATE_HOME XDG_DATA_HOME XDG_CACHE_HOME"]
        lines += [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
        self.status_file = self.directory / f"status-{script.stem}"
        lines += [f"cd {shlex.quote(str(self.cwd))}",
                  shlex.join([str(Path(sys.executable).parent / "ndx"), "repl", *args]),
                  f"echo $? > {shlex.quote(str(self.status_file))}"]
        script.write_text("\n".join(lines) + "\n")
        script.chmod(0o755)
        self.stop()  # a new REPL gets a new server (and socket), with an empty screen
        self.socket = str(self.directory / f"socket-{script.stem}")
        self._tmux("-f", str(self.config), "new-session", "-d", "-s", "repl",
                   "-x", str(width), "-y", str(height), str(script))
        self.started = True
        self.wait_for(lambda screen: screen.rstrip().endswith(PROMPT), "the first prompt")

    def stop(self) -> None:
        """Stop this tmux server (and the REPL in it)."""
        if self.started:
            subprocess.run(["tmux", "-S", self.socket, "kill-server"], check=False,
                           capture_output=True)
            self.started = False

    # ---------------------------------------------------------------- input

    def type(self, text: str) -> None:
        """Type `text` literally (no Enter). Sent as hex bytes: tmux would take a `;`
        ending a literal argument for a command separator."""
        if text:
            self._tmux("send-keys", "-t", "repl", "-H",
                       *(f"{b:02x}" for b in text.encode()))

    def keys(self, *names: str) -> None:
        """Press keys by tmux name: Enter, Tab, C-c, C-d, Up, …"""
        self._tmux("send-keys", "-t", "repl", *names)

    def cancel(self) -> None:
        """Ctrl-C while typing, then wait for the fresh prompt (keys typed before it
        would be echoed by the terminal between two prompts, as in any shell)."""
        before = self.prompts()
        self.keys("C-c")
        self.wait_for(lambda screen: _count_prompts(screen) > before
                      and screen.rstrip().endswith(PROMPT), "a fresh prompt")

    def run(self, *lines: str, deadline: float = DEADLINE) -> str:
        """Type each line followed by Enter, wait for the next prompt and return what was
        printed in between (the echoed input left out)."""
        before = self.prompts()
        for line in lines:
            self.type(line)
            self.keys("Enter")
        self.wait_for(lambda screen: _count_prompts(screen) > before
                      and screen.rstrip().endswith(PROMPT), "the next prompt", deadline)
        return self.last_output()

    def last_output(self) -> str:
        """What the last input printed (between its echo and the prompt after it)."""
        lines = self.screen().rstrip().splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith(PROMPT)]
        block = lines[starts[-2] + 1:starts[-1]]
        while block and block[0].startswith(CONTINUATION):
            block = block[1:]
        return "\n".join(block)

    # --------------------------------------------------------------- output

    def screen(self) -> str:
        """The whole pane, scrollback included, wrapped lines joined, no colours."""
        text = self._tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "repl")
        return "\n".join(line.rstrip() for line in text.splitlines())

    def colored(self) -> str:
        """The visible pane with its colour escapes (what highlighting tests read)."""
        return self._tmux("capture-pane", "-p", "-e", "-t", "repl")

    def prompts(self) -> int:
        """How many prompts the screen shows so far."""
        return _count_prompts(self.screen())

    def exit_status(self) -> int | None:
        """The REPL's exit status once it has exited, else None (the shell running it
        writes the status to a file: more direct than asking tmux about the pane)."""
        try:
            return int(self.status_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def wait_for(self, ready: Callable[[str], bool] | str, what: str,
                 deadline: float = DEADLINE) -> str:
        """Poll the screen until `ready(screen)` (or the regex `ready` matches)."""
        test = ready if callable(ready) else (
            lambda screen, pattern=re.compile(ready, re.MULTILINE): pattern.search(screen)
            is not None)
        end = time.monotonic() + deadline
        while True:
            screen = self.screen()
            if test(screen):
                return screen
            if time.monotonic() > end:
                raise AssertionError(f"the REPL never showed {what}; the screen:\n{screen}")
            time.sleep(0.05)

    def wait_exit(self, deadline: float = DEADLINE) -> int:
        """Wait for the REPL to exit and return its status."""
        end = time.monotonic() + deadline
        while (status := self.exit_status()) is None:
            if time.monotonic() > end:
                raise AssertionError(f"the REPL did not exit; the screen:\n{self.screen()}")
            time.sleep(0.05)
        return status

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True,
                                text=True, check=False)
        if result.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {result.stderr}")
        return result.stdout


def _count_prompts(screen: str) -> int:
    return sum(1 for line in screen.splitlines() if line.startswith(PROMPT))
