"""`ndx eval`: evaluate a file or expression and print the value as `nix-instantiate
--eval` does.

    ndx eval FILE | -E EXPR  [--strict] [--json] [-A attr.path]…
             [--arg NAME EXPR]… [--argstr NAME VALUE]… [-I name=path]… [--show-trace]

`run_eval` is the whole command as a function (arguments in, output text and exit status
out) so tests can run it in-process exactly as the CLI does.
"""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import dataclass
from typing import Any

import click

from ndx.cli.main import cli
from ndx.evaluator.context import EvalContext, parse_search_path, parse_search_path_entry
from ndx.evaluator.errors import EvalError
from ndx.evaluator.session import EvalRequest, eval_output, run_deep
from ndx.lang.errors import NdxError


@dataclass
class EvalResult:
    """What `ndx eval` printed and its exit status."""

    stdout: str
    stderr: str
    exit_code: int


def search_path_from(includes: tuple[str, ...] | list[str],
                     environ: dict[str, str] | os._Environ[str],
                     base_dir: str | None = None) -> list[tuple[str, str]]:
    """`-I` entries first, then `NDX_PATH` (colon-separated, like NIX_PATH); relative
    directories are taken relative to `base_dir` (the working directory)."""
    entries = [parse_search_path_entry(item) for item in includes]
    entries.extend(parse_search_path(environ.get("NDX_PATH", "")))
    base = base_dir or os.getcwd()
    return [(prefix, path if "://" in path else os.path.join(base, path))
            for prefix, path in entries]


def run_eval(file: str | None, expression: str | None, *, strict: bool = False,
             json: bool = False, attr_paths: tuple[str, ...] = (),
             args: tuple[tuple[str, str], ...] = (), argstrs: tuple[tuple[str, str], ...] = (),
             includes: tuple[str, ...] = (), show_trace: bool = False,
             store: Any = None, base_dir: str | None = None,
             keep: list[Any] | None = None) -> EvalResult:
    """Run `ndx eval` and return what it prints; never raises for a user's error.

    `store` is the `StoreIO` derivations are instantiated in; by default a fresh memory
    store, which computes the same paths as the disk store without writing or building
    anything. The evaluation context is appended to `keep` when given (see
    `eval_command`)."""
    if (file is None) == (expression is None):
        return EvalResult("", "error: give either a FILE or -E EXPR\n", 1)
    if file is not None and file.startswith("<") and file.endswith(">"):
        # `ndx eval '<name>'` evaluates the file the search path gives, as Nix does.
        file, expression = None, f"import {file}"
    auto_args = [(name, "expr", text) for name, text in args]
    auto_args += [(name, "str", text) for name, text in argstrs]
    request = EvalRequest(file=os.path.abspath(file) if file is not None else None,
                          expression=expression, attr_paths=attr_paths,
                          auto_args=auto_args, strict=strict, json=json,
                          base_dir=base_dir)
    import ndx.stdlib  # registers the fetchers (fetchurl, fetchTarball, …)

    printed: list[str] = []
    if store is None:
        from ndx.stdlib.store import MemoryStore

        store = MemoryStore()
    try:
        # `<ndx>` is the installed library (`import <ndx> { }`), as in ndx-build.
        stdlib_dir = os.path.dirname(os.path.abspath(ndx.stdlib.__file__ or ""))
        ctx = EvalContext(store, search_path=search_path_from(includes, os.environ, base_dir),
                          fallback_search_path=[("ndx", stdlib_dir)])
        if keep is not None:
            keep.append(ctx)
        output = run_deep(eval_output, ctx, request, printed)
    except NdxError as error:
        if isinstance(error, EvalError):
            error.show_trace = show_trace
        # Like Nix, what was printed before the error stays printed (the results of
        # earlier -A paths, the beginning of a JSON value, without a newline).
        return EvalResult("".join(printed), error.render() + "\n", 1)
    return EvalResult(output, "", 0)


_FINISHED: list[Any] = []
"""Evaluation contexts of this process's `ndx eval` (kept alive until exit)."""


@cli.command("eval")
@click.argument("file", required=False, type=click.Path(dir_okay=True))
@click.option("-E", "--expr", "expression", metavar="EXPR",
              help="Evaluate this expression instead of a file.")
@click.option("--strict", is_flag=True, help="Evaluate the result completely.")
@click.option("--json", "json_", is_flag=True, help="Print the result as JSON.")
@click.option("-A", "--attr", "attr_paths", multiple=True, metavar="PATH",
              help="Select an attribute (a.b.c) of the result.")
@click.option("--arg", "args", nargs=2, multiple=True, metavar="NAME EXPR",
              help="Pass NAME = EXPR to a top-level function.")
@click.option("--argstr", "argstrs", nargs=2, multiple=True, metavar="NAME VALUE",
              help="Pass NAME = \"VALUE\" to a top-level function.")
@click.option("-I", "includes", multiple=True, metavar="NAME=PATH",
              help="Add a search path entry for <NAME> lookups.")
@click.option("--show-trace", is_flag=True, help="Show the full evaluation trace of errors.")
@click.option("--store", "store_dir", metavar="DIR",
              help="Instantiate derivations in the disk store at DIR (by default paths are "
                   "computed in memory and nothing is written).")
def eval_command(file: str | None, expression: str | None, strict: bool, json_: bool,
                 attr_paths: tuple[str, ...], args: tuple[tuple[str, str], ...],
                 argstrs: tuple[tuple[str, str], ...], includes: tuple[str, ...],
                 show_trace: bool, store_dir: str | None) -> None:
    """Evaluate FILE (or -E EXPR) and print the value like `nix-instantiate --eval`."""
    options = {"strict": strict, "json": json_, "attr_paths": attr_paths, "args": args,
               "argstrs": argstrs, "includes": includes, "show_trace": show_trace,
               "keep": _FINISHED}
    if store_dir is not None:
        from ndx.stdlib.store.disk import DiskStore

        with DiskStore(store_dir) as store:
            result = run_eval(file, expression, store=store, **options)  # type: ignore
    else:
        result = run_eval(file, expression, **options)  # type: ignore[arg-type]
    if result.stdout:
        # Strings are byte strings: bytes that are not UTF-8 travel as surrogate escapes
        # and are written back out exactly.
        sys.stdout.flush()
        sys.stdout.buffer.write(result.stdout.encode("utf-8", "surrogateescape"))
        sys.stdout.buffer.flush()
    if result.stderr:
        click.echo(result.stderr, nl=False, err=True)
    # Exit fast: the evaluation's objects (millions of thunks, many in cycles) stay
    # referenced and are moved out of the collector's reach, so the interpreter's exit
    # does not spend a third of a short run freeing them; the OS reclaims the memory.
    gc.freeze()
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def run_argv(argv: list[str], **overrides: Any) -> EvalResult:
    """`ndx eval ARGV…` in-process: the command line parsed by the real command, then
    `run_eval` (what the oracle tests use)."""
    ctx = eval_command.make_context("eval", list(argv))
    params = dict(ctx.params)
    return run_eval(params["file"], params["expression"], strict=params["strict"],
                    json=params["json_"], attr_paths=params["attr_paths"],
                    args=params["args"], argstrs=params["argstrs"],
                    includes=params["includes"], show_trace=params["show_trace"],
                    **overrides)
