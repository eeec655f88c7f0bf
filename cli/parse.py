"""`ndx parse`: show the syntax tree of a file or an expression.

    ndx parse FILE           the AST, as indented constructor calls
    ndx parse -E EXPR        the same for an expression given on the command line
    ndx parse --json FILE    the AST as JSON, with spans [line, column, end_line, end_column]

A syntax error is printed like a compiler's and exits with status 1.
"""

from __future__ import annotations

import json

import click

from ndx.cli.main import cli
from ndx.lang import parse, parse_file
from ndx.lang.deep import deep
from ndx.lang.dump import dump, to_json


@cli.command("parse")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("-E", "--expr", "expression", metavar="EXPR",
              help="Parse EXPR instead of a file.")
@click.option("--json", "as_json", is_flag=True, help="Print the AST as JSON.")
def parse_command(file: str | None, expression: str | None, as_json: bool) -> None:
    """Parse FILE (or -E EXPR) and print its syntax tree."""
    if (file is None) == (expression is None):
        raise click.UsageError("give either FILE or -E EXPR")
    tree = parse(expression) if expression is not None else parse_file(file)  # type: ignore[arg-type]
    if as_json:
        click.echo(deep(json.dumps, to_json(tree), what="print"))
    else:
        click.echo(dump(tree))
