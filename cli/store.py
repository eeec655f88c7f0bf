"""`ndx store …` (gc, path-info, verify, delete) and `ndx log`: the store as the user
sees it. Each subcommand takes `--store DIR` (default: `$NDX_STORE`, else `/ndx/store`
when writable, else `~/.local/share/ndx/store`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from ndx.cli.main import cli

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore

store_option = click.option("--store", "store_dir", metavar="DIR", envvar="NDX_STORE",
                            help="The physical store directory.")


def open_store(store_dir: str | None) -> DiskStore:
    """The disk store the user named (or the default one)."""
    from ndx.stdlib.store.disk import DiskStore  # sqlite and the builder load on use

    return DiskStore(store_dir)


@cli.group("store")
def store_group() -> None:
    """Inspect and maintain the store."""


@store_group.command("gc")
@store_option
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
def gc_command(store_dir: str | None, dry_run: bool) -> None:
    """Delete every store path not reachable from a GC root (`result` links)."""
    from ndx.stdlib.build.progress import human_bytes

    with open_store(store_dir) as store:
        result = store.collect_garbage(
            dry_run=dry_run,
            on_wait=lambda: click.echo("waiting for running builds to finish…", err=True))
    for path in result.deleted:
        click.echo(("would delete " if dry_run else "deleted ") + path, err=True)
    verb = "would be deleted" if dry_run else "deleted"
    click.echo(f"{len(result.deleted)} store paths {verb}, "
               f"{human_bytes(result.freed)} {'would be ' if dry_run else ''}freed")


@store_group.command("path-info")
@store_option
@click.option("-r", "--recursive", is_flag=True, help="Show the whole runtime closure.")
@click.option("-s", "--size", is_flag=True, help="Print each path's NAR size.")
@click.option("-S", "--closure-size", is_flag=True, help="Print each path's closure size.")
@click.option("-h", "--human-readable", is_flag=True, help="Sizes as KiB, MiB, …")
@click.argument("paths", nargs=-1, required=True)
def path_info_command(store_dir: str | None, recursive: bool, size: bool,
                      closure_size: bool, human_readable: bool, paths: tuple[str, ...]) -> None:
    """Show store paths (or `result` links) with their sizes and closures."""
    from ndx.stdlib.build.progress import human_bytes
    from ndx.stdlib.store.errors import StoreError

    with open_store(store_dir) as store:
        roots = [store.resolve(p) for p in paths]
        for path in roots:
            if not store.is_valid(path):
                raise StoreError(f"'{path}' is not a valid store path")
        shown = store.topo_sorted(store.closure(roots)) if recursive else roots

        def fmt(n: int) -> str:
            return human_bytes(n) if human_readable else str(n)

        for path in shown:
            columns = [path]
            if size:
                columns.append(fmt(store.path_info(path).nar_size))
            if closure_size:
                columns.append(fmt(sum(store.path_info(p).nar_size
                                       for p in store.closure([path]))))
            click.echo("\t".join(columns))


@store_group.command("verify")
@store_option
@click.option("--check-contents", is_flag=True,
              help="Also re-hash every path and compare with the database.")
def verify_command(store_dir: str | None, check_contents: bool) -> None:
    """Check that the database and the store directory agree."""
    with open_store(store_dir) as store:
        report = store.verify(check_contents=check_contents)
    for problem in report.problems:
        click.echo(f"error: {problem}", err=True)
    if report.problems:
        raise click.exceptions.Exit(1)
    click.echo(f"checked {report.checked} store paths: no problems found")


@store_group.command("delete")
@store_option
@click.argument("paths", nargs=-1, required=True)
def delete_command(store_dir: str | None, paths: tuple[str, ...]) -> None:
    """Delete the given store paths, unless something still refers to them."""
    from ndx.stdlib.build.progress import human_bytes

    with open_store(store_dir) as store:
        result = store.delete(paths)
    for path in result.deleted:
        click.echo(f"deleted {path}", err=True)
    click.echo(f"{len(result.deleted)} store paths deleted, {human_bytes(result.freed)} freed")


@cli.command("log")
@store_option
@click.argument("path")
def log_command(store_dir: str | None, path: str) -> None:
    """Print the build log of a derivation or of the derivation that built PATH."""
    with open_store(store_dir) as store:
        click.echo(read_log(store, path), nl=False)


def read_log(store: DiskStore, path: str) -> str:
    """The kept build log for `path` (a `.drv`, an output path or a `result` link)."""
    from ndx.stdlib.store.errors import StoreError

    target = store.resolve(path)
    candidates = [target] if target.endswith(".drv") else []
    if not candidates:
        info = store.db.info(target)
        if info is not None and info.deriver:
            candidates.append(info.deriver)
        candidates += [drv for drv, _ in store.derivers(target)]
    for drv in candidates:
        log = store.log_file(drv)
        if os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as file:
                return file.read()
    raise StoreError(f"no build log is available for '{target}'")
