"""`NdxLexer`, the Pygments lexer for ndx, loaded on first use.

Pygments is not a runtime dependency of ndx: importing this module never imports it.
Reading `NdxLexer` does, and raises ImportError (naming what to install) when Pygments
is missing. Pygments itself finds the lexer through the `pygments.lexers` entry point
(`pygmentize -l ndx file.ndx`); the REPL does `from ndx.grammar.pygments_lexer import
NdxLexer`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NdxLexer"]  # noqa: F822 (provided by __getattr__ below)


def __getattr__(name: str) -> Any:
    if name != "NdxLexer":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        from ._pygments_lexer import NdxLexer
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] != "pygments":
            raise
        raise ImportError(
            "highlighting ndx needs Pygments: pip install pygments") from error
    return NdxLexer
