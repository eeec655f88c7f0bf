"""What a line of REPL input is, and whether it is finished.

    classify("x = pkgs.redis")   → Input("bind", "x = pkgs.redis", name="x", text="pkgs.redis")
    classify(":t 1 + 1")         → Input("command", …, command=":t", text="1 + 1")
    is_incomplete("let x = 1;")  → True (read another line)

Input is unfinished when the parser says the text ended too early (an open bracket,
`let`, string, `''` string or comment, or an operator without its operand): the parser
raises a `ParseError` with `incomplete=True`, as hy's reader raises PrematureEndOfInput.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ndx.lang import ParseError, parse

BINDING = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_'-]*)\s*=(?!=)(.*)\Z", re.DOTALL)
"""`name = expr` binds a name in the session (`==` is a comparison, not a binding)."""

COMMAND = re.compile(r"\s*(:[A-Za-z?]*)(.*)\Z", re.DOTALL)
"""`:cmd rest`: a REPL command and its argument."""

EXPRESSION_COMMANDS = frozenset({":p", ":print", ":t", ":type", ":b", ":build", ":a", ":add",
                                 ":doc"})
"""Commands whose argument is an expression (which may span lines)."""


@dataclass(frozen=True)
class Input:
    """One complete piece of input: `kind` is "empty", "expr", "bind" or "command"."""

    kind: str
    source: str
    text: str = ""
    name: str = ""
    command: str = ""


def classify(source: str) -> Input:
    """Split input into its kind, the binding's name or command, and the expression."""
    if not source.strip():
        return Input("empty", source)
    command = COMMAND.match(source)
    if command is not None:
        return Input("command", source, text=command.group(2).strip(),
                     command=command.group(1))
    binding = BINDING.match(source)
    if binding is not None:
        return Input("bind", source, text=binding.group(2), name=binding.group(1))
    return Input("expr", source, text=source)


def is_incomplete(source: str) -> bool:
    """Whether `source` is the start of something longer: pressing Enter should add a
    line rather than run it. Commands that take no expression are always complete."""
    item = classify(source)
    if item.kind == "empty":
        return False
    if item.kind == "command" and (item.command not in EXPRESSION_COMMANDS or not item.text):
        return False
    return expression_incomplete(item.text)


def expression_incomplete(text: str) -> bool:
    """Whether the expression `text` ended before it could be complete."""
    try:
        parse(text)
    except ParseError as error:
        return error.incomplete
    return False
