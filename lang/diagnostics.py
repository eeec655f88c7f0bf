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


def _excerpt(span: Span) -> list[str]:
    """The source line of `span` with a caret line underneath (carets span the region
    when it lies on one line)."""
    text = span.source.line_text(span.line)
    if not text and span.line > 1 and span.start >= len(span.source.text):
        return []
    number = str(span.line)
    gutter = " " * (len(number) + 1)
    width = 1
    if span.end_line == span.line and span.end_column > span.column:
        width = span.end_column - span.column
    # Tabs in the prefix are kept so the caret lines up in a terminal.
    prefix = "".join(c if c == "\t" else " " for c in text[: span.column - 1])
    return [
        f"   {number} | {text}",
        f"   {gutter}| {prefix}{'^' * min(width, max(1, len(text) - span.column + 1))}",
    ]


def render(diagnostic: Diagnostic, *, excerpt: bool = True) -> str:
    """Render a diagnostic (and its notes) as compiler-style text, without a final newline."""
    lines = [f"{_location(diagnostic.span)}{diagnostic.severity}: {diagnostic.message}"]
    if excerpt and diagnostic.span is not None:
        lines.extend(_excerpt(diagnostic.span))
    for note in diagnostic.notes:
        lines.append(render(note, excerpt=excerpt))
    return "\n".join(lines)
