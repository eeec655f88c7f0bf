"""Source texts and the spans that point into them.

Every AST node and every diagnostic carries a `Span`; a span keeps a reference to its
`Source`, so an error can be rendered (file, line, caret) long after parsing, without
re-reading the file.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, eq=False)
class Source:
    """A text handed to the parser.

    `name` is what diagnostics print (a path as the user gave it, or «string» for `-E`);
    `base_dir` is the absolute directory relative path literals resolve against.
    Sources compare by identity.
    """

    name: str
    text: str
    base_dir: str
    _line_starts: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        object.__setattr__(self, "_line_starts", tuple(starts))

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset; columns count characters."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def line_text(self, line: int) -> str:
        """The text of 1-based line `line`, without its newline ('' when out of range)."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end == -1 else self.text[start:end]

    def span(self, start: int, end: int) -> Span:
        """The span covering offsets [start, end)."""
        line, column = self.position(start)
        end_line, end_column = self.position(max(start, end))
        return Span(self, start, end, line, column, end_line, end_column)


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source: offsets [start, end) and 1-based line/column of both ends.

    `end_column` is the column just past the last character, as in most compilers.
    """

    source: Source = field(compare=False, repr=False)
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def file(self) -> str:
        """The display name of the file this span points into."""
        return self.source.name

    def __str__(self) -> str:
        return f"{self.source.name}:{self.line}:{self.column}"

    def merge(self, other: Span) -> Span:
        """The smallest span covering both (which must share a source)."""
        first = self if self.start <= other.start else other
        last = self if self.end >= other.end else other
        return Span(self.source, first.start, last.end, first.line, first.column,
                    last.end_line, last.end_column)
