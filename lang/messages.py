"""Syntax errors in plain words: what was found, what was expected, where it began.

The parse table knows which terminals each state accepts; listed raw that would be a
wall of names after any expression (every operator, every token that can start an
argument). Like bison with default reductions, we first finish the constructs that can
be finished and report what the enclosing construct needs: after `port = 6379` in a set
that is just `';'`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .diagnostics import Diagnostic
from .errors import ParseError
from .source import Source

# How each terminal reads in a message (as expected; see `describe_token` for found ones).
TERMINAL_WORDS = {
    "$END": "end of file", "ID": "an identifier", "OR_KW": "'or'", "INT": "an integer",
    "FLOAT": "a float", "STRING": "a string", "DQUOTE": "'\"'", "STR": "string text",
    "IND_STRING": "an indented string", "IND_OPEN": "an indented string",
    "IND_STR": "indented string text", "IND_CLOSE": "\"''\"", "DOLLAR_CURLY": "'${'",
    "PATH": "a path", "HPATH": "a path", "IPATH": "a path", "PATH_STR": "path text",
    "PATH_END": "the end of the path", "SPATH": "a search path", "URI": "a URI",
    "IF": "'if'", "THEN": "'then'", "ELSE": "'else'", "ASSERT": "'assert'", "WITH": "'with'",
    "LET": "'let'", "IN": "'in'", "REC": "'rec'", "INHERIT": "'inherit'",
    "ELLIPSIS": "'...'", "EQ": "'=='", "NEQ": "'!='", "LEQ": "'<='", "GEQ": "'>='",
    "AND": "'&&'", "OR": "'||'", "IMPL": "'->'", "UPDATE": "'//'", "CONCAT": "'++'",
    "LBRACE": "'{'", "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['",
    "RSQB": "']'", "SEMI": "';'", "COLON": "':'", "COMMA": "','", "DOT": "'.'", "AT": "'@'",
    "QMARK": "'?'", "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'",
    "BANG": "'!'", "LT": "'<'", "GT": "'>'", "ASSIGN": "'='",
}

# Terminals that can start an expression; when most of them are expected, the message
# says "an expression" instead.
_EXPRESSION_START = frozenset({
    "ID", "INT", "FLOAT", "STRING", "DQUOTE", "IND_STRING", "IND_OPEN", "PATH", "HPATH",
    "IPATH", "SPATH", "URI", "LPAR", "LBRACE", "LSQB", "REC", "LET", "IF", "WITH", "ASSERT",
    "MINUS", "BANG",
})
_OPERATORS = frozenset({"PLUS", "MINUS", "STAR", "SLASH", "CONCAT", "UPDATE", "LT", "LEQ",
                        "GT", "GEQ", "EQ", "NEQ", "AND", "OR", "IMPL", "QMARK"})
_ATTRIBUTE_START = frozenset({"ID", "OR_KW", "STRING", "DQUOTE", "DOLLAR_CURLY"})
_FORMAL_START = frozenset({"ID", "ELLIPSIS"})

# Openers and the terminals that close them, for "to match this '{'" notes.
_CLOSERS = {"LBRACE": "RBRACE", "DOLLAR_CURLY": "RBRACE", "LPAR": "RPAR", "LSQB": "RSQB",
            "DQUOTE": "DQUOTE", "IND_OPEN": "IND_CLOSE", "LET": "IN", "IF": "THEN"}

# Order of expected items in a message: closers and separators read best first.
_PREFERRED = ["SEMI", "RBRACE", "RPAR", "RSQB", "ASSIGN", "COLON", "COMMA", "DOT", "IN",
              "THEN", "ELSE", "$END"]


def describe_token(token: Sequence[Any]) -> str:
    """How a found token reads in a message: `'}'`, `identifier 'foo'`, `end of file`."""
    ttype, value = token[0], token[1]
    if ttype == "$END":
        return "end of file"
    if ttype == "ID":
        return f"identifier '{value}'"
    if ttype == "INT":
        return f"integer {value}"
    if ttype == "FLOAT":
        return f"float {value}"
    if ttype == "STRING":
        text = str(value)
        shown = text if len(text) <= 20 else text[:17] + "..."
        return "string " + '"' + shown.replace("\n", "\\n") + '"'
    if ttype in ("PATH", "HPATH", "IPATH"):
        return f"path {value}"
    if ttype == "SPATH":
        return f"search path {value}"
    if ttype == "URI":
        return f"URI {value}"
    if ttype in ("IND_STRING", "IND_OPEN"):
        return "indented string"
    if ttype == "DQUOTE":
        return "string"
    return str(TERMINAL_WORDS.get(ttype, ttype))


def describe_expected(expected: set[str]) -> str:
    """The expected terminals in words, grouped: `';'`, `an expression`, `'=' or '.'`."""
    groups: list[str] = []
    remaining = set(expected)
    if len(remaining & _EXPRESSION_START) >= 8:
        remaining -= _EXPRESSION_START
        groups.append("an expression")
    elif _ATTRIBUTE_START <= remaining:
        remaining -= _ATTRIBUTE_START
        groups.append("an attribute name")
    first = [t for t in _PREFERRED if t in remaining]
    rest = sorted(t for t in remaining if t not in _PREFERRED)
    items: list[str] = []
    for word in [TERMINAL_WORDS.get(t, t) for t in first] + groups + [
            TERMINAL_WORDS.get(t, t) for t in rest]:
        if word not in items:
            items.append(word)
    if not items:
        return ""
    if len(items) > 6:
        items = items[:5] + ["…"]
        return ", ".join(items)
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def expected_after_reductions(actions: list[dict[str, int]], gotos: list[dict[str, int]],
                              rules: list[tuple[str, int]], states: list[int],
                              end: int) -> set[str]:
    """What the innermost unfinished constructs accept once everything that can be
    finished is: follow the reductions until states that only shift, and take what
    those shift (all of them, when a state could reduce in more than one way)."""
    expected: set[str] = set()
    pending = [list(states)]
    seen: set[tuple[int, ...]] = set()
    while pending and len(seen) < 1000:
        stack = pending.pop()
        key = tuple(stack[-12:])
        if key in seen:
            continue
        seen.add(key)
        row = actions[stack[-1]]
        reductions = sorted({~action for action in row.values() if action < 0})
        if not reductions:
            expected.update(t for t, action in row.items() if action >= 0)
            if stack[-1] == end:
                expected.add("$END")
            continue
        for rule in reductions:
            origin, size = rules[rule]
            reduced = stack[:len(stack) - size] if size else list(stack)
            target = gotos[reduced[-1]].get(origin)
            if target is not None:
                pending.append(reduced + [target])
    # Any expression may go on with an operator; saying so is noise next to what the
    # enclosing construct needs.
    structural = expected - _OPERATORS
    return structural or expected


# Hints for common slips: (found terminal, a terminal that must be expected, hint).
_HINTS = [
    ("COMMA", "RSQB", "list elements are separated by spaces, not commas"),
    ("COMMA", "SEMI", "each attribute ends with ';', not ','"),
    ("COLON", "ASSIGN", "attributes are set with '=', not ':'"),
    ("ASSIGN", "THEN", "to compare, write '=='"),
    ("ASSIGN", "RPAR", "to compare, write '=='"),
    ("ASSIGN", "$END", ("a file holds one expression: bindings go inside '{ … }' or a "
                        "'let … in'")),
    ("SEMI", "$END", "a file holds one expression, and nothing may follow it"),
]


def _hint(found: str, expected: set[str]) -> Diagnostic | None:
    for terminal, wanted, hint in _HINTS:
        if found == terminal and wanted in expected:
            return Diagnostic("note", hint)
    return None


def syntax_error(source: Source, token: Sequence[Any], expected: set[str],
                 values: list[Any]) -> ParseError:
    """The error for `token`, which the parser cannot accept; `values` is the parser's
    value stack, whose unclosed opening tokens give a note."""
    found = describe_token(token)
    wanted = describe_expected(expected)
    message = f"unexpected {found}" + (f", expected {wanted}" if wanted else "")
    if token[0] == "$END":
        end = len(source.text.rstrip())
        span = source.span(end, end)
    else:
        span = source.span(token[2], max(token[3], token[2] + 1))
    notes: tuple[Diagnostic, ...] = ()
    opener = None
    if token[0] in ("$END", "RBRACE", "RPAR", "RSQB", "IN", "ELSE", "THEN"):
        opener = _unclosed(values, expected)
    if opener is not None:
        notes = (Diagnostic("note", f"to match this {TERMINAL_WORDS[opener[0]]}"
                            if opener[0] not in ("LET", "IF") else
                            f"in this '{opener[1]}'",
                            source.span(opener[2], opener[3])),)
    hint = _hint(token[0], expected)
    if hint is not None:
        notes += (hint,)
    return ParseError(message, span, notes=notes, code="E-parse-syntax")


def _unclosed(values: list[Any], expected: set[str]) -> Sequence[Any] | None:
    """The innermost opening token still on the stack whose closer is expected."""
    for value in reversed(values):
        if type(value) is tuple and len(value) == 4 and value[0] in _CLOSERS:
            if _CLOSERS[value[0]] in expected:
                return value
            return None
    return None
