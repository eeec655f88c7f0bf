"""The `ndx` command: a click group whose subcommands glue the library stages together.

Subcommands live in their own modules and register themselves on `cli`; this module only
owns the group and the error boundary that turns exceptions into messages.
"""

from __future__ import annotations

import sys
import traceback

import click

from ndx.lang.errors import NdxError

#: ndx's version, as in pyproject.toml (a test keeps the two equal): a constant, because
#: asking `importlib.metadata` costs every command ~30 ms of start-up.
VERSION = "0.1.0"


def report_internal_error(exc: BaseException) -> None:
    """Print our own bug as a short message and keep the traceback out of the user's way
    (it goes to stderr only when NDX_DEBUG is set)."""
    import os

    click.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
    click.echo("this is a bug in ndx, please report it (set NDX_DEBUG=1 for a traceback)",
               err=True)
    if os.environ.get("NDX_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)


class ErrorBoundaryGroup(click.Group):
    """A group that prints `NdxError`s as diagnostics and exits 1, and never lets a Python
    traceback reach the user."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except NdxError as exc:
            click.echo(exc.render(), err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            ctx.exit(130)
        except RecursionError as exc:
            report_internal_error(exc)
            ctx.exit(1)
        except Exception as exc:  # noqa: BLE001 - the boundary of the program
            report_internal_error(exc)
            ctx.exit(1)
        return None


@click.group(cls=ErrorBoundaryGroup)
@click.version_option(VERSION, prog_name="ndx")
def cli() -> None:
    """ndx: a lazy Nix-expression language whose programs build container images."""


def main() -> None:
    """Entry point of the `ndx` console script."""
    # Subcommand modules register themselves on import.
    from ndx.cli import commands  # noqa: F401

    cli(prog_name="ndx")
