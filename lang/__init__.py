"""ndx.lang — the syntax of ndx: source text to a typed AST with spans.

    parse(text, path="«string»", base_dir=None) -> Expr
    parse_file(path) -> Expr

Both raise `ParseError` (an `NdxError`) for any text that is not a valid program, and
never anything else; `error.incomplete` tells text that merely ended too early (what a
REPL continues on the next line) from a real mistake. This package imports nothing else
of ndx and is the only place that imports lark.
"""

from __future__ import annotations

import os

from .ast import Expr
from .errors import NdxError, ParseError
from .parser import parse_source
from .source import Source

__all__ = ["ParseError", "parse", "parse_file"]

STRING_NAME = "«string»"
"""The name of a source given as text (`ndx parse -E`, `builtins.fromJSON`…)."""


def parse(text: str, path: str = STRING_NAME, base_dir: str | None = None) -> Expr:
    """Parse `text`; `path` names it in messages. Relative path literals resolve against
    `base_dir`: by default the directory of `path`, or the working directory for
    «string»."""
    if base_dir is None:
        base_dir = os.getcwd() if path == STRING_NAME else os.path.dirname(os.path.abspath(path))
    return parse_source(Source(path, text, os.path.abspath(base_dir)))


def parse_file(path: str) -> Expr:
    """Read and parse the file at `path` (UTF-8; an invalid byte is a ParseError at its
    position)."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise NdxError(f"cannot read '{path}': {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = len(data[:exc.start].decode("utf-8"))
        source = Source(path, data.decode("utf-8", errors="replace"),
                        os.path.dirname(os.path.abspath(path)))
        raise ParseError(f"invalid UTF-8: byte 0x{data[exc.start]:02x} cannot start or "
                         "continue a character here", source.span(offset, offset + 1),
                         code="E-parse-utf8") from None
    return parse(text, path)
