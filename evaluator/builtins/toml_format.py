"""`fromTOML`: TOML read exactly as Nix 2.8 reads it (see `ndx.evaluator.toml_reader`:
TOML 1.0 syntax, toml11's rules for re-opening tables, no dates or times, 64-bit
integers clamped)."""

from __future__ import annotations

from typing import Any

from ..coerce import expect_string_no_context
from ..errors import EvalError
from ..toml_reader import TomlError, parse_toml
from .registry import builtin


@builtin("fromTOML", 1, global_=True)
def from_toml(s: Any) -> dict[str, Any]:
    """Parse a TOML document into a set (tables become sets, arrays lists)."""
    text = expect_string_no_context(s, "the argument of 'fromTOML'")
    try:
        return parse_toml(text)
    except RecursionError:
        raise EvalError("while parsing a TOML string: the document is nested too deeply") \
            from None
    except TomlError as error:
        raise EvalError(f"while parsing a TOML string: {error}") from None
