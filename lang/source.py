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
        """The span covering offsets [start, end).

        Its line and column numbers are worked out on first use: the parser makes a span
        for every node and most are never shown."""
        span = _new_span(_LazySpan)
        _set_source(span, self)
        _set_start(span, start)
        _set_end(span, end)
        return span


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


# The slots of Span, written directly by the lazy subclass below.
_set_source = Span.__dict__["source"].__set__
_set_start = Span.__dict__["start"].__set__
_set_end = Span.__dict__["end"].__set__
_POSITION_SLOTS = {name: Span.__dict__[name] for name in ("line", "column", "end_line",
                                                         "end_column")}
_new_span = object.__new__


def _position_property(name: str) -> property:
    slot = _POSITION_SLOTS[name]

    def get(self: _LazySpan) -> int:
        try:
            return slot.__get__(self)  # type: ignore[no-any-return]
        except AttributeError:
            self._fill()
            return slot.__get__(self)  # type: ignore[no-any-return]

    def set_(self: _LazySpan, value: int) -> None:
        slot.__set__(self, value)

    return property(get, set_)


class _LazySpan(Span):
    """A `Span` whose line and column numbers are computed when first read (then kept in
    Span's own slots). It compares and hashes as the equivalent Span."""

    __slots__ = ()

    def _fill(self) -> None:
        source = self.source
        line, column = source.position(self.start)
        end_line, end_column = source.position(max(self.start, self.end))
        slots = _POSITION_SLOTS
        slots["line"].__set__(self, line)
        slots["column"].__set__(self, column)
        slots["end_line"].__set__(self, end_line)
        slots["end_column"].__set__(self, end_column)

    line = _position_property("line")
    column = _position_property("column")
    end_line = _position_property("end_line")
    end_column = _position_property("end_column")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Span):
            return NotImplemented
        return (self.start, self.end, self.line, self.column, self.end_line,
                self.end_column) == (other.start, other.end, other.line, other.column,
                                     other.end_line, other.end_column)

    def __hash__(self) -> int:
        return hash((self.start, self.end, self.line, self.column, self.end_line,
                     self.end_column))

    def __reduce__(self) -> tuple[object, ...]:
        return (_restore_span, (self.source, self.start, self.end))


def _restore_span(source: Source, start: int, end: int) -> Span:
    """Unpickle a lazy span (pickled as its source and offsets only)."""
    return source.span(start, end)
