"""Diagnostics — what went wrong and where — and their rendering, in one place.

The data (`Diagnostic`) is separate from the rendering (`render`), so the CLI, the REPL
and golden tests all print errors the same way:

    redis.ndx:12:15: error: unexpected '}', expected ';'
       12 |   port = 6379 }
          |               ^
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .source import Span


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A message about a region of source text.

    `severity` is "error", "warning", "note" or "trace" (a "while evaluating …" frame);
    `code` is a stable identifier (e.g. "E-parse-unexpected") for docs and tests;
    `notes` are attached follow-ups (a previous definition, a suggestion, trace frames).
    """

    severity: str
    message: str
    span: Span | None = None
    notes: tuple[Diagnostic, ...] = field(default=())
    code: str | None = None


def _location(span: Span | None) -> str:
    return "" if span is None else f"{span.file}:{span.line}:{span.column}: "


# The widest source excerpt printed under a message; longer lines (minified or generated
# code) are cut to a window around the error, marked with "…".
EXCERPT_WIDTH = 120


def _excerpt(span: Span) -> list[str]:
    """The source line of `span` with a caret line underneath (carets span the region
    when it lies on one line)."""
    text = span.source.line_text(span.line)
    if not text and span.line > 1 and span.start >= len(span.source.text):
        return []
    number = str(span.line)
    gutter = " " * (len(number) + 1)
    column = span.column
    width = 1
    if span.end_line == span.line and span.end_column > span.column:
        width = span.end_column - span.column
    width = min(width, max(1, len(text) - column + 1))
    if len(text) > EXCERPT_WIDTH:
        text, column, width = _window(text, column, width)
    # Tabs in the prefix are kept so the caret lines up in a terminal.
    prefix = "".join(c if c == "\t" else " " for c in text[: column - 1])
    return [
        f"   {number} | {text}",
        f"   {gutter}| {prefix}{'^' * width}",
    ]


def _window(text: str, column: int, width: int) -> tuple[str, int, int]:
    """Cut an over-long line to EXCERPT_WIDTH characters around `column`; returns the cut
    text and the column and caret width within it."""
    width = min(width, EXCERPT_WIDTH // 2)
    start = max(0, column - 1 - EXCERPT_WIDTH // 3)
    end = min(len(text), start + EXCERPT_WIDTH)
    start = max(0, min(start, end - EXCERPT_WIDTH))
    cut = text[start:end]
    column -= start
    if start > 0:
        cut = "…" + cut
        column += 1
    if end < len(text):
        cut += "…"
    return cut, column, width


def render(diagnostic: Diagnostic, *, excerpt: bool = True) -> str:
    """Render a diagnostic (and its notes) as compiler-style text, without a final newline."""
    lines = [f"{_location(diagnostic.span)}{diagnostic.severity}: {diagnostic.message}"]
    if excerpt and diagnostic.span is not None:
        lines.extend(_excerpt(diagnostic.span))
    for note in diagnostic.notes:
        lines.append(render(note, excerpt=excerpt))
    return "\n".join(lines)
