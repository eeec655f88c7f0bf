"""The base of every error a user can cause, and the parser's own error.

Anything deriving from `NdxError` is the *user's* problem and is printed as a diagnostic
(never a traceback); any other exception escaping to the CLI is *our* bug and is reported
as "internal error, please report it".
"""

from __future__ import annotations

from .diagnostics import Diagnostic, render
from .source import Span


class NdxError(Exception):
    """An error caused by the user's program, input or environment."""

    def diagnostic(self) -> Diagnostic:
        """The structured form of this error, for rendering."""
        return Diagnostic("error", str(self))

    def render(self) -> str:
        """This error as compiler-style text."""
        return render(self.diagnostic())


class ParseError(NdxError):
    """A syntax error (or a static error found while building the AST, such as a
    duplicate attribute), located by `span`.

    `incomplete` is True when the text is only unfinished: it ended while a bracket,
    `let`, string, `''` string or comment was still open, or an operator still wanted
    its operand (like hy's PrematureEndOfInput). More text could make it valid, so a
    REPL reads another line instead of reporting the error."""

    def __init__(self, message: str, span: Span, *, notes: tuple[Diagnostic, ...] = (),
                 code: str = "E-parse", incomplete: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.notes = notes
        self.code = code
        self.incomplete = incomplete

    def diagnostic(self) -> Diagnostic:
        return Diagnostic("error", self.message, self.span, self.notes, self.code)

    def __str__(self) -> str:
        return f"{self.span}: {self.message}"
