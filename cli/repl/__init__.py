"""`ndx repl`: explore values interactively, like `nix repl`.

    ndx repl [FILE…] [-I name=path]… [--arg NAME EXPR]… [--argstr NAME VALUE]…
             [--store DIR] [--show-trace]

Each FILE is loaded as `:l FILE` does (its attributes come into scope). The modules:
`session.py` (the scope and the commands), `reader.py` (when input is complete),
`show.py` (printing), `docs.py` (`:doc`), `completion.py` (Tab) and `terminal.py`
(prompt_toolkit, or plain lines when standard input is not a terminal).
"""

from __future__ import annotations

import os
from typing import Any

import click

from ndx.cli.main import VERSION, cli


@cli.command("repl")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=True))
@click.option("--arg", "args", nargs=2, multiple=True, metavar="NAME EXPR",
              help="Pass NAME = EXPR to loaded files that are functions.")
@click.option("--argstr", "argstrs", nargs=2, multiple=True, metavar="NAME VALUE",
              help="Pass NAME = \"VALUE\" to loaded files that are functions.")
@click.option("-I", "includes", multiple=True, metavar="NAME=PATH",
              help="Add a search path entry for <NAME> lookups.")
@click.option("--show-trace", is_flag=True, help="Show the full evaluation trace of errors.")
@click.option("--store", "store_dir", metavar="DIR", envvar="NDX_STORE",
              help="The physical store directory, as for ndx-build (default: /ndx/store "
                   "when writable, else ~/.local/share/ndx/store).")
def repl_command(files: tuple[str, ...], args: tuple[tuple[str, str], ...],
                 argstrs: tuple[tuple[str, str], ...], includes: tuple[str, ...],
                 show_trace: bool, store_dir: str | None) -> None:
    """Evaluate expressions interactively; FILEs' attributes are brought into scope."""
    import sys

    import ndx.stdlib  # noqa: F401 - registers the fetchers and image builtins
    from ndx.cli.eval import search_path_from
    from ndx.stdlib.build.progress import ConsoleReporter
    from ndx.stdlib.store.disk import DiskStore

    from .session import ReplSession
    from .terminal import history_file, is_terminal, read_lines, run_lines, run_terminal

    auto_args = [(name, "expr", text) for name, text in args]
    auto_args += [(name, "str", text) for name, text in argstrs]
    with DiskStore(store_dir) as store:
        reporter = ConsoleReporter(sys.stderr)
        store.reporter = reporter
        session = ReplSession(store, search_path=search_path_from(includes, os.environ),
                              auto_args=auto_args, show_trace=show_trace,
                              reporter=reporter)
        interactive = is_terminal(sys.stdin) and is_terminal(sys.stdout)
        if interactive:
            print(f"Welcome to ndx {VERSION}. Type :? for help.",
                  flush=True)
        for file in files:
            session.load(file)
        if interactive:
            run_terminal(session, history_file())
        else:
            run_lines(session, read_lines(sys.stdin))
    _keep_alive(session)


_FINISHED: list[Any] = []


def _keep_alive(session: Any) -> None:
    """Exit without freeing the session's object graph (the OS reclaims it faster), as
    `ndx eval` does."""
    import gc

    _FINISHED.append(session)
    gc.freeze()
