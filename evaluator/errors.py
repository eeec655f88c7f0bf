"""Evaluation errors: *what* went wrong (the class and message) and *where* (a span and
the chain of "while evaluating …" frames, innermost first).

Builtins raise these without a span; the evaluator fills in the span of the call site
(`EvalError.at`) and pushes frames (`EvalError.add_frame`) as the error unwinds, so every
error the user sees names a file, line and column. Rendering lives in
`ndx.lang.diagnostics`; `--show-trace` decides how many frames are printed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ndx.lang.diagnostics import Diagnostic
from ndx.lang.errors import NdxError

if TYPE_CHECKING:
    from ndx.lang.source import Span


class EvalError(NdxError):
    """An error raised while evaluating a user's program."""

    code = "E-eval"

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        # Innermost first: (description, span) pairs such as
        # ("while evaluating the attribute 'config'", span).
        self.frames: list[tuple[str, Span | None]] = []
        self.show_trace = False

    def at(self, span: Span | None) -> EvalError:
        """Give the error a location if it has none yet; returns self for `raise e.at(s)`."""
        if self.span is None and span is not None:
            self.span = span
        return self

    def add_frame(self, description: str, span: Span | None) -> None:
        """Record that the error happened while evaluating `description` at `span` (a
        first frame pointing exactly where the error itself points adds nothing and is
        dropped)."""
        if not self.frames and span is not None and span is self.span:
            return
        self.frames.append((description, span))

    def diagnostic(self) -> Diagnostic:
        frames = self.frames if self.show_trace else self.frames[:1]
        notes = tuple(Diagnostic("trace", text, span) for text, span in frames)
        if not self.show_trace and len(self.frames) > 1:
            notes += (Diagnostic("note", "use '--show-trace' to see the full trace"),)
        return Diagnostic("error", self.message, self.span, notes, self.code)

    def __str__(self) -> str:
        return self.message


class EvalTypeError(EvalError):
    """A value of the wrong type: "expected a set but found a list: [ 1 2 ]"."""

    code = "E-type"


class ThrownError(EvalError):
    """`throw "msg"` — catchable by `builtins.tryEval`."""

    code = "E-throw"


class AssertionFailedError(EvalError):
    """`assert c; e` with c false — catchable by `builtins.tryEval`."""

    code = "E-assert"


class AbortError(EvalError):
    """`abort "msg"` — never catchable."""

    code = "E-abort"


class InfiniteRecursionError(EvalError):
    """A thunk forced while it was being forced."""

    code = "E-infinite-recursion"

    def __init__(self, span: Span | None = None) -> None:
        super().__init__("infinite recursion encountered", span)


class MissingAttributeError(EvalError):
    """`e.a` where `e` has no attribute `a` (the message suggests close names)."""

    code = "E-missing-attribute"


class UndefinedVariableError(EvalError):
    """A name bound nowhere, found when its enclosing `with`s are searched at run time."""

    code = "E-undefined-variable"


class FunctionCallError(EvalError):
    """Calling a function with a missing or unexpected argument, or calling a non-function."""

    code = "E-call"


class NotAvailableError(EvalError):
    """A builtin that needs a facility (the store, the network) this evaluation lacks."""

    code = "E-not-available"
