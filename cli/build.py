"""`ndx-build`: evaluate, build what is missing, print the output paths, link `result`.

    ndx-build FILE [-A attr.path]… [--arg NAME EXPR]… [--argstr NAME VALUE]… [-E EXPR]
              [-o result | --no-out-link] [-j N] [-K] [--keep-going] [--check] [--dry-run]
              [--show-trace] [--store DIR] [--no-sandbox] [--quiet] [-I name=path]…

The selected value may be a derivation, or a set or list of them (sets are searched one
level deep, deeper where `recurseForDerivations = true`). Each derivation's selected
output (`outputName`, so `-A redis.bin` builds `bin`) is built; links are named like
nix-build's: `result`, `result-2`, … and `result-<output>` for outputs other than `out`.
`run_build` is the whole command as a function, for tests.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import click

from ndx.cli.main import report_internal_error
from ndx.evaluator.coerce import show_type
from ndx.evaluator.context import EvalContext
from ndx.evaluator.errors import EvalError, EvalTypeError
from ndx.evaluator.session import (
    auto_call,
    find_along_attr_path,
    make_auto_args,
    run_deep,
    split_attr_path,
)
from ndx.evaluator.values import force, string_text, type_name
from ndx.lang.errors import NdxError
from ndx.stdlib.build.options import BuildOptions
from ndx.stdlib.build.plan import make_plan, parse_target
from ndx.stdlib.build.progress import ConsoleReporter

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore

STDLIB_DIR = os.path.dirname(os.path.abspath(sys.modules["ndx.stdlib"].__file__ or ""))
"""The installed `ndx.stdlib` folder, reachable as `<ndx/…>` (e.g. `<ndx/fetch/fetchurl.ndx>`)."""


@dataclass
class BuildRequest:
    """Everything `ndx-build` was asked."""

    file: str | None = None
    expression: str | None = None
    attr_paths: tuple[str, ...] = ()
    args: tuple[tuple[str, str], ...] = ()
    argstrs: tuple[tuple[str, str], ...] = ()
    includes: tuple[str, ...] = ()
    out_link: str = "result"
    no_out_link: bool = False
    jobs: int = 1
    cores: int = 0
    keep_failed: bool = False
    keep_going: bool = False
    check: bool = False
    dry_run: bool = False
    show_trace: bool = False
    store_dir: str | None = None
    no_sandbox: bool = False
    quiet: bool = False
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))


def run_build(request: BuildRequest, stdout: TextIO | None = None,
              stderr: TextIO | None = None) -> int:
    """Run `ndx-build`; returns the exit status (0, 1 for errors, 130 if interrupted)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    if (request.file is None) == (request.expression is None):
        err.write("error: give either a FILE or -E EXPR\n")
        return 1
    if request.no_sandbox:
        err.write("warning: --no-sandbox: builders run WITHOUT isolation — they see and can "
                  "change this whole machine, use the network, and their results may not "
                  "be reproducible\n")
    from ndx.stdlib.store.disk import DiskStore  # sqlite and the builder load on use

    reporter = ConsoleReporter(err, quiet=request.quiet)
    try:
        with DiskStore(request.store_dir, sandbox=not request.no_sandbox) as store:
            store.reporter = reporter
            with store.gc_lock.shared():
                return _build(request, store, reporter, out, err)
    except NdxError as error:
        reporter.close()
        if isinstance(error, EvalError):
            error.show_trace = request.show_trace
        err.write(error.render() + "\n")
        return 1
    except KeyboardInterrupt:
        reporter.close()
        err.write("error: interrupted by the user\n")
        return 130


def _build(request: BuildRequest, store: DiskStore, reporter: ConsoleReporter,
           out: TextIO, err: TextIO) -> int:
    from ndx.cli.eval import search_path_from

    search_path = search_path_from(request.includes, request.environ)
    ctx = EvalContext(store, search_path=search_path, fallback_search_path=[("ndx", STDLIB_DIR)],
                      environ=request.environ)
    wanted = run_deep(_select_derivations, ctx, request)
    targets = list(dict.fromkeys(f"{drv}^{output}" for drv, output in wanted))
    options = BuildOptions(jobs=request.jobs, cores=request.cores,
                           keep_failed=request.keep_failed, keep_going=request.keep_going,
                           check=request.check)
    if request.dry_run:
        plan = make_plan(store, [parse_target(store, t) for t in targets],
                         check=request.check)
        _print_plan(plan, err)
        return 0
    report = store.build(targets, options, reporter)
    reporter.close()
    drv_index: dict[str, int] = {}
    for target in targets:
        drv, output = target.split("^")
        path = report.outputs[target][output]
        out.write(path + "\n")
        if request.no_out_link:
            continue
        index = drv_index.setdefault(drv, len(drv_index))
        link = request.out_link + (f"-{index + 1}" if index else "")
        if output != "out":
            link += f"-{output}"
        store.add_root(link, path)
    return 0


def _print_plan(plan: Any, err: TextIO) -> None:
    builds, fetches = plan.builds(), plan.fetches()
    if builds:
        err.write(f"these {len(builds)} derivations will be built:\n")
        err.writelines(f"  {path}\n" for path in builds)
    if fetches:
        err.write(f"these {len(fetches)} paths will be fetched:\n")
        err.writelines(f"  {plan.drvs[path].outputs['out'].path}\n" for path in fetches)
    if not builds and not fetches:
        err.write("nothing to build: every output is already in the store\n")


def _select_derivations(ctx: EvalContext, request: BuildRequest) -> list[tuple[str, str]]:
    """Evaluate the program and return (drv path, output name) for every derivation the
    attribute paths select."""
    auto_args = _auto_args(ctx, request)  # first, as Nix: a bad --arg is reported at once
    if request.file is not None:
        root = ctx.evaluate_file(os.path.abspath(request.file))
    else:
        root = ctx.evaluate_string(request.expression or "", base_dir=os.getcwd())
    found: list[tuple[str, str]] = []
    for attr_path in request.attr_paths or ("",):
        value = _select(root, attr_path, auto_args)
        before = len(found)
        collect_derivations(value, auto_args, found, top=True)
        if len(found) == before:
            where = f"the attribute '{attr_path}'" if attr_path else "the expression"
            raise EvalTypeError(f"{where} evaluates to {_describe(value)}, which is not a "
                                "derivation (or a set or list of derivations) to build")
    return found


def _select(root: Any, attr_path: str, auto_args: dict[str, Any]) -> Any:
    """Follow `-A attr_path` from `root` as nix-build does: functions met on the way (and
    at the end) are called with the `--arg`s they ask for, even when none are given."""
    value = force(auto_call(root, auto_args))
    for name in split_attr_path(attr_path):
        value = force(auto_call(find_along_attr_path(value, _quote(name), {}), auto_args))
    return value


def _quote(name: str) -> str:
    return name if name.isdigit() or "." not in name else f'"{name}"'


def _describe(value: Any) -> str:
    kind = type_name(value)
    if kind in ("set", "list"):
        return f"a {kind} without derivations"
    return show_type(value)


def _auto_args(ctx: EvalContext, request: BuildRequest) -> dict[str, Any]:
    """`--argstr`s, then `--arg`s (a later one wins a name), as `ndx eval` makes them."""
    specs = [(name, "str", text) for name, text in request.argstrs]
    specs += [(name, "expr", text) for name, text in request.args]
    return make_auto_args(ctx, specs)


def is_derivation(value: Any) -> bool:
    """Whether a forced value is a derivation (a set with `type = "derivation"`)."""
    return type(value) is dict and "type" in value and \
        string_text(force(value["type"])) == "derivation"


def collect_derivations(value: Any, auto_args: dict[str, Any],
                        found: list[tuple[str, str]], top: bool) -> None:
    """Append (drv path, output name) for each derivation `value` is or holds, as
    nix-build finds them: a set's attributes one level deep (deeper where
    `recurseForDerivations = true`), a list's elements."""
    value = force(value)
    if is_derivation(value):
        drv_path = string_text(force(value["drvPath"]))
        output = string_text(force(value["outputName"])) if "outputName" in value else "out"
        found.append((drv_path, output))
    elif type(value) is dict:
        recurse = "recurseForDerivations" in value and force(value["recurseForDerivations"])
        if not (top or recurse is True):
            return
        for name in sorted(value):
            item = force(value[name])
            if is_derivation(item) or (type(item) is dict and "recurseForDerivations" in item):
                collect_derivations(item, auto_args, found, top=False)
    elif type(value) is list:
        for item in value:
            collect_derivations(item, auto_args, found, top=True)


@click.command("ndx-build", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("file", required=False)
@click.option("-A", "--attr", "attr_paths", multiple=True, metavar="PATH",
              help="Build the attribute PATH (a.b.c) of the result; repeatable.")
@click.option("-E", "--expr", "expression", metavar="EXPR", help="Build this expression.")
@click.option("--arg", "args", nargs=2, multiple=True, metavar="NAME EXPR",
              help="Pass NAME = EXPR to a top-level function.")
@click.option("--argstr", "argstrs", nargs=2, multiple=True, metavar="NAME VALUE",
              help="Pass NAME = \"VALUE\" to a top-level function.")
@click.option("-I", "includes", multiple=True, metavar="NAME=PATH",
              help="Add a search path entry for <NAME> lookups.")
@click.option("-o", "--out-link", default="result", show_default=True,
              help="Name of the symlink(s) to the outputs.")
@click.option("--no-out-link", is_flag=True, help="Do not create result symlinks.")
@click.option("-j", "--max-jobs", "jobs", type=click.IntRange(min=1), default=1,
              show_default=True, help="Derivations to build at the same time.")
@click.option("--cores", type=click.IntRange(min=0), default=0,
              help="NIX_BUILD_CORES for each builder (0: all CPUs).")
@click.option("-K", "--keep-failed", is_flag=True, help="Keep failed builds' directories.")
@click.option("--keep-going", is_flag=True, help="Build what can be built after a failure.")
@click.option("--check", is_flag=True,
              help="Rebuild and compare with the existing outputs bit for bit.")
@click.option("--dry-run", is_flag=True, help="Only show what would be built or fetched.")
@click.option("--show-trace", is_flag=True, help="Show the full evaluation trace of errors.")
@click.option("--store", "store_dir", metavar="DIR", envvar="NDX_STORE",
              help="The physical store directory (default: /ndx/store when writable, "
                   "else ~/.local/share/ndx/store).")
@click.option("--no-sandbox", is_flag=True,
              help="Run builders without bubblewrap isolation (warns; needs the store "
                   "at /ndx/store).")
@click.option("-q", "--quiet", is_flag=True, help="Do not show build output.")
def build_command(**params: Any) -> None:
    """Build the derivations selected from FILE (or -E EXPR) and link `result` to them."""
    status = run_build(BuildRequest(**params))
    if status:
        raise click.exceptions.Exit(status)


def main() -> None:
    """Entry point of the `ndx-build` console script."""
    try:
        build_command(prog_name="ndx-build")
    except Exception as exc:  # noqa: BLE001 - the boundary of the program
        report_internal_error(exc)
        sys.exit(1)
