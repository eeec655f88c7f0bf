"""The REPL's front ends: prompt_toolkit on a terminal, plain lines otherwise.

On a terminal the input is one multi-line buffer: Enter runs it when it is complete and
adds a line while it is not (`reader.is_incomplete`), so a whole `let … in …` block is
edited, highlighted (the Pygments lexer of `ndx.grammar`) and kept in the history
(`~/.local/state/ndx/repl_history`) as one entry. Tab completes (`completion.py`),
Ctrl-C while typing discards the input, Ctrl-D on an empty line exits.

When standard input is not a terminal (`ndx repl < script`), lines are read and run as
soon as they form complete input, with no prompt and no editing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from . import completion
from .reader import EXPRESSION_COMMANDS, classify, is_incomplete

if TYPE_CHECKING:
    from .session import ReplSession

PROMPT = "ndx-repl> "
CONTINUATION = "     ...> "
"""The prompt of the second and later lines of one input (as wide as PROMPT)."""


def history_file(environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """Where the history is kept: `$XDG_STATE_HOME/ndx/repl_history`, by default
    `~/.local/state/ndx/repl_history`."""
    state = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"),
                                                          ".local", "state")
    return os.path.join(state, "ndx", "repl_history")


def run_terminal(session: ReplSession, history: str) -> None:
    """Read, evaluate and print on the terminal until `:q` or Ctrl-D."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    try:
        os.makedirs(os.path.dirname(history), exist_ok=True)
        store: Any = FileHistory(history)
    except OSError as exc:
        session.err.write(f"warning: no history is kept: cannot create "
                          f"'{os.path.dirname(history)}': {exc.strerror}\n")
        store = InMemoryHistory()
    prompt: PromptSession[str] = PromptSession(
        PROMPT, multiline=True, prompt_continuation=CONTINUATION, history=store,
        lexer=_lexer(), completer=_completer(session), complete_while_typing=False,
        key_bindings=_key_bindings(), enable_history_search=False)
    while True:
        try:
            text = prompt.prompt()
            if not session.execute(text):
                break
        except KeyboardInterrupt:
            continue  # Ctrl-C while typing drops the input (or came between two inputs)
        except EOFError:
            break  # Ctrl-D on an empty line


def run_lines(session: ReplSession, lines: Iterable[str]) -> None:
    """Run input read line by line (standard input that is not a terminal)."""
    pending = ""
    for line in lines:
        pending += line
        if is_incomplete(pending):
            continue
        text, pending = pending, ""
        if not session.execute(text.rstrip("\n")):
            return
    if pending.strip():
        session.execute(pending.rstrip("\n"))  # reports what is unfinished


def _key_bindings() -> Any:
    from prompt_toolkit.key_binding import KeyBindings

    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event: Any) -> None:
        """Run the input if it is complete, else start a new line of it."""
        buffer = event.current_buffer
        state = buffer.complete_state
        if state is not None and state.current_completion is not None:
            buffer.apply_completion(state.current_completion)
            return
        # In the middle of the text Enter always breaks the line (editing a recalled
        # multi-line entry); at the end it runs the input once it is complete.
        if not buffer.document.is_cursor_at_the_end or is_incomplete(buffer.text):
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @bindings.add("escape", "enter")
    def _run(event: Any) -> None:
        """Alt-Enter runs the input wherever the cursor is."""
        event.current_buffer.validate_and_handle()

    return bindings


def _completer(session: ReplSession) -> Any:
    from prompt_toolkit.completion import Completer, Completion

    class ReplCompleter(Completer):
        def get_completions(self, document: Any, _event: Any) -> Iterator[Any]:
            for item in completion.candidates(session, document.text_before_cursor):
                yield Completion(item.text, item.start)

    return ReplCompleter()


def _lexer() -> Any:
    from prompt_toolkit.formatted_text import StyleAndTextTuples
    from prompt_toolkit.lexers import Lexer
    from prompt_toolkit.styles.pygments import pygments_token_to_classname

    from ndx.grammar.pygments_lexer import NdxLexer

    ndx = NdxLexer(stripnl=False, stripall=False, ensurenl=False)

    def fragments(text: str) -> list[tuple[str, str]]:
        item = classify(text)
        if item.kind != "command":
            return fragments_of(text)
        head = text[:len(text) - len(text.lstrip())] + item.command
        rest = text[len(head):]
        if item.command not in EXPRESSION_COMMANDS:
            return [("class:pygments.keyword", head), ("", rest)]
        return [("class:pygments.keyword", head)] + fragments_of(rest)

    def fragments_of(text: str) -> list[tuple[str, str]]:
        return [(f"class:{pygments_token_to_classname(token)}", value)
                for token, value in ndx.get_tokens(text)]

    class ReplLexer(Lexer):
        def lex_document(self, document: Any) -> Callable[[int], StyleAndTextTuples]:
            lines: list[StyleAndTextTuples] = [[]]
            for style, value in fragments(document.text):
                parts = value.split("\n")
                for index, part in enumerate(parts):
                    if index:
                        lines.append([])
                    if part:
                        lines[-1].append((style, part))
            return lambda number: lines[number] if number < len(lines) else []

    return ReplLexer()


def is_terminal(stream: TextIO) -> bool:
    """Whether `stream` is an interactive terminal."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def read_lines(stream: TextIO = sys.stdin) -> Iterator[str]:
    """The lines of a non-terminal input, each with its newline."""
    yield from stream
