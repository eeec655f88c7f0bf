"""Indented strings: Nix's indentation stripping, rule for rule.

`''…''` strings drop the smallest indentation of their lines. The details are Nix's (2.8),
and users rely on them, so they are reproduced exactly, quirks included:

* only spaces count as indentation (a tab is text);
* lines holding nothing but spaces do not take part in the minimum;
* an interpolation or an escape (`''$`, `'''`, `''\\n`, a lone `$` or `'`) ends a line's
  indentation where it stands, like text does;
* the last line is dropped when it holds only spaces (and no interpolation follows it);
* the first line is dropped when it holds only spaces (the lexer's `''(\\ *\\n)?`).
"""

from __future__ import annotations

from typing import TypeVar

E = TypeVar("E")

Piece = tuple[str, bool]
"""A run of indented-string text and whether its spaces count as indentation (False for
escapes, whose text is already decoded)."""


def strip_indentation(elements: list[Piece | E]) -> list[str | E]:
    """Strip `elements` (text pieces and interpolated expressions, in order) and return
    the parts of the resulting string: stripped text and the expressions, unmerged."""
    if not elements:
        return [""]
    min_indent = _minimum_indentation(elements)
    result: list[str | E] = []
    at_line_start = True
    dropped = 0  # spaces seen so far at the start of the current line
    last = len(elements) - 1
    for index, element in enumerate(elements):
        if type(element) is not tuple:
            at_line_start = False
            dropped = 0
            result.append(element)  # type: ignore[arg-type]
            continue
        out: list[str] = []
        for number, line in enumerate(element[0].split("\n")):
            if number:
                out.append("\n")
                at_line_start = True
                dropped = 0
            if not at_line_start:
                out.append(line)
                continue
            rest = line.lstrip(" ")
            spaces = len(line) - len(rest)
            keep = spaces - max(0, min_indent - dropped)
            if keep > 0:
                out.append(" " * keep)
            dropped += spaces
            if rest:
                at_line_start = False
                dropped = 0
                out.append(rest)
        stripped = "".join(out)
        if index == last:
            # The last line goes when it is only spaces.
            newline = stripped.rfind("\n")
            if newline != -1 and not stripped[newline + 1:].strip(" "):
                stripped = stripped[:newline + 1]
        result.append(stripped)
    return result


def _minimum_indentation(elements: list[Piece | E]) -> int:
    """The smallest indentation of a line that has something other than spaces."""
    at_line_start = True
    min_indent = 1_000_000
    current = 0
    for element in elements:
        if type(element) is not tuple or not element[1]:
            if at_line_start:
                at_line_start = False
                min_indent = min(min_indent, current)
            continue
        for number, line in enumerate(element[0].split("\n")):
            if number:
                at_line_start = True
                current = 0
            if at_line_start:
                rest = line.lstrip(" ")
                current += len(line) - len(rest)
                if rest:
                    at_line_start = False
                    min_indent = min(min_indent, current)
    return min_indent
