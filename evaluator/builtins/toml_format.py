"""`fromTOML`, with Nix 2.8's answers.

TOML 1.0 is read by Python's `tomllib`; the differences from Nix 2.8's reader (toml11)
that a value can show are then applied:

* dates and times are an error ("Dates and times are not supported"): Nix has no type
  for them;
* integers beyond 64 bits are clamped to the largest or smallest 64-bit integer;
* a float literal too large for a double becomes ±1.79769e+308, not infinity;
* `\\u0000` ends a string (Nix strings are C strings).

toml11 is laxer than the specification about re-opening tables that dotted keys created
(`a.b.c = 1` followed by `[a.b]`), which Nix accepts and `tomllib` (like the TOML
specification) rejects; see the builtins report.
"""

from __future__ import annotations

import datetime
import math
import sys
import tomllib
from typing import Any

from ..coerce import expect_string_no_context
from ..errors import EvalError
from ..operators import INT_MAX, INT_MIN
from .registry import builtin


class _DateError(Exception):
    pass


def _parse_float(text: str) -> float:
    value = float(text.replace("_", ""))
    if math.isinf(value) and "inf" not in text:
        return math.copysign(sys.float_info.max, value)
    return value


_DATES = (datetime.date, datetime.time, datetime.datetime)


def _convert(value: Any) -> Any:
    """The ndx value of a parsed TOML value, iteratively (documents may nest deeply)."""
    root = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        t = type(item)
        if t is int:
            if not INT_MIN <= item <= INT_MAX:
                container[key] = INT_MAX if item > 0 else INT_MIN
        elif t is str:
            nul = item.find("\x00")
            if nul >= 0:
                container[key] = item[:nul]
        elif t is list:
            stack.extend((item, i) for i in range(len(item)))
        elif t is dict:
            stack.extend((item, name) for name in item)
        elif isinstance(item, _DATES):
            raise _DateError
    return root[0]


def parse_toml(text: str) -> dict[str, Any]:
    """The ndx value of a TOML document (EvalError when Nix would reject it)."""
    try:
        document = tomllib.loads(text, parse_float=_parse_float)
        return _convert(document)  # type: ignore[no-any-return]
    except tomllib.TOMLDecodeError as error:
        raise EvalError(f"while parsing a TOML string: {error}") from None
    except _DateError:
        raise EvalError("while parsing a TOML string: Dates and times are not supported") \
            from None


@builtin("fromTOML", 1, global_=True)
def from_toml(s: Any) -> dict[str, Any]:
    """Parse a TOML document into a set (tables become sets, arrays lists)."""
    return parse_toml(expect_string_no_context(s, "the argument of 'fromTOML'"))
