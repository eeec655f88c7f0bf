"""The tokenizer: source text to the terminals declared in grammar/ndx.lark.

It follows Nix 2.8's flex lexer rule for rule, longest match first, with the same mode
stack: `{` and `${` push the normal mode, `}` pops back to whatever was interrupted (a
string, an indented string, a path or an enclosing brace). Each mode is one compiled regex
tried at the current offset.

A token is a plain tuple `(type, value, start, end)` (offsets into the text), the cheapest
thing Python can allocate. To keep the parser's work small, literals without
interpolation arrive whole: `STRING` (decoded text), `IND_STRING` (its pieces, see below),
`PATH`/`HPATH` (raw text). Only around an interpolation does the lexer emit the
`DQUOTE … DQUOTE`, `IND_OPEN … IND_CLOSE` or `IPATH … PATH_END` sequences.

Indented-string text comes as a list of `(text, counts_for_indentation)` pieces, one per
Nix token, because Nix's indentation stripping treats escapes (`''$`, `'''`, `''\\n`)
differently from plain text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .errors import ParseError
from .source import Source

Token = tuple[str, object, int, int]
"""`(type, value, start, end)`; `value` is a str, or a list of pieces for IND_* tokens."""

# Characters of a path literal (Nix's PATH_CHAR).
_PC = r"[a-zA-Z0-9._+\-]"

# Whitespace and comments, skipped between tokens.
_SKIP = r"(?:[ \t\r\n]++|\#[^\r\n]*+|/\*(?:[^*]|\*++[^*/])*+\*++/)++"
_SKIP_RE = re.compile(_SKIP)

# The normal mode, after optional whitespace: one named group per kind of token. Paths,
# `~` paths, `<search paths>` and URIs are not here: they are rare, and trying them first
# at every identifier would cost (and be quadratic on `a.a.a.…`). Instead, after a match
# that could be the start of one (an identifier followed by one of `_AFTER_ID_PATHLIKE`,
# a number, or an operator starting with one of `./-+<~`), `_long_token` checks `_PC_RUN`
# and tries the longer tokens only when the run of path characters ends in `/` or `:`.
_NORMAL = re.compile(
    rf"""(?:{_SKIP})?+(?:
     (?P<id>[a-zA-Z_][a-zA-Z0-9_'\-]*+)
    |(?P<float>(?:[1-9][0-9]*+\.[0-9]*+|0?\.[0-9]++)(?:[Ee][+-]?+[0-9]++)?+
       |[0-9]++[Ee][+-]?+[0-9]++(?![a-zA-Z0-9_'\-]))
    |(?P<int>[0-9]++)
    |(?P<op>\.\.\.|==|!=|<=|>=|&&|\|\||->|//|\+\+|\$\{{|''(?:\ *+\n)?+
       |[-+*/!<>=?:;,.@()\[\]{{}}"~])
    )""",
    re.VERBOSE,
)

# The longest run of path characters from a position; only if it ends in `/` (a path)
# or `:` (a URI) can a longer token start anywhere inside it.
_PC_RUN = re.compile(rf"{_PC}*+")
_PATH = re.compile(rf"{_PC}*+(?:/{_PC}++)++/?+|{_PC}*+/(?=\$\{{)")
_HPATH = re.compile(rf"~(?:/{_PC}++)++/?+|~/(?=\$\{{)")
_SPATH = re.compile(rf"<{_PC}++(?:/{_PC}++)*+>")
_URI = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*+:[a-zA-Z0-9%/?:@&=+$,\-_.!~*']++")
# Characters after an identifier that may turn it into a longer path or URI token.
_AFTER_ID_PATHLIKE = frozenset("./:+")

# Text of a double-quoted string up to `"` or `${` (Nix's STR rule): `$` is literal unless
# followed by `{`; a `$` right before the closing quote is literal too.
_STRING_TEXT = re.compile(r'(?:[^$"\\]++|\$[^{"\\]|\\[\s\S]|\$\\[\s\S])++(?:\$(?="))?+|\$(?=")')

# Escapes and carriage returns inside double-quoted text (CR and CR LF read as LF).
_STRING_ESCAPE = re.compile(r"\\([\s\S])|\r\n?")
_ESCAPED = {"n": "\n", "r": "\r", "t": "\t"}

# Plain text of an indented string (Nix's IND_STR rule): `$` and `'` are literal unless
# they start `${` or `''`.
_IND_TEXT = re.compile(r"(?:[^$']++|\$[^{']|'[^'$])++")

# Path text after an interpolation (Nix's `{PATH}|{PATH_SEG}|{PATH_CHAR}+`, longest
# first), and the check that a path has an interpolation ahead.
_PATH_TEXT = re.compile(rf"{_PC}*+(?:/{_PC}++)++/?+|{_PC}*+/|{_PC}++")
_PATH_INTERPOLATES = re.compile(r"[a-zA-Z0-9._+\-/]*+\$\{")

KEYWORDS = {
    "if": "IF", "then": "THEN", "else": "ELSE", "assert": "ASSERT", "with": "WITH",
    "let": "LET", "in": "IN", "rec": "REC", "inherit": "INHERIT", "or": "OR_KW",
}

# Operator and punctuation spellings to terminal names.
OPERATORS = {
    "...": "ELLIPSIS", "==": "EQ", "!=": "NEQ", "<=": "LEQ", ">=": "GEQ", "&&": "AND",
    "||": "OR", "->": "IMPL", "//": "UPDATE", "++": "CONCAT", "${": "DOLLAR_CURLY",
    "-": "MINUS", "+": "PLUS", "*": "STAR", "/": "SLASH", "!": "BANG", "<": "LT", ">": "GT",
    "=": "ASSIGN", "?": "QMARK", ":": "COLON", ";": "SEMI", ",": "COMMA", ".": "DOT",
    "@": "AT", "(": "LPAR", ")": "RPAR", "[": "LSQB", "]": "RSQB", "{": "LBRACE",
    "}": "RBRACE", '"': "DQUOTE", "''": "IND_OPEN", "~": "TILDE",
}

# Operators the lexer does more with than pass on.
_SPECIAL_OPERATORS = frozenset({"LBRACE", "DOLLAR_CURLY", "RBRACE", "DQUOTE", "IND_OPEN",
                                "SLASH", "TILDE"})

# Lexer modes (the entries of the mode stack).
_NORMAL_MODE, _STRING_MODE, _IND_MODE, _PATH_MODE, _PATH_SLASH_MODE = range(5)


def unescape(text: str) -> str:
    """Decode the escapes of double-quoted string text the way Nix does: `\\n \\r \\t`,
    any other escaped character stands for itself, and raw CR / CR LF become LF."""
    if "\\" not in text and "\r" not in text:
        return text
    return _STRING_ESCAPE.sub(_unescape_one, text)


def _unescape_one(match: re.Match[str]) -> str:
    char = match.group(1)
    if char is None:
        return "\n"
    return _ESCAPED.get(char, char)


def tokenize(source: Source) -> Iterator[Token]:
    """Yield the tokens of `source`, ending with `("$END", "", n, n)`.

    Raises `ParseError` for text no token matches (a stray character, an unterminated
    string or comment, a path with a trailing slash)."""
    text = source.text
    length = len(text)
    normal_match = _NORMAL.match
    keywords = KEYWORDS
    operators = OPERATORS
    after_id = _AFTER_ID_PATHLIKE
    special = _SPECIAL_OPERATORS
    modes = [_NORMAL_MODE]
    opened = [0]  # where each mode on the stack was entered, for error messages
    pos = 0
    # No path or URI starts before this offset (the end of a run of path characters
    # already checked): spares re-scanning `a.b.c.d` at every identifier.
    plain_until = 0
    while True:
        mode = modes[-1]
        if mode == _NORMAL_MODE:
            m = normal_match(text, pos)
            if m is None:
                pos = _skip(text, pos)
                if pos >= length:  # an unclosed `{` or `${` is the parser's to report
                    yield ("$END", "", length, length)
                    return
                raise _unexpected_character(source, pos)
            kind: str = m.lastgroup  # type: ignore[assignment]  # a group always matched
            start, end = m.span(kind)
            value = text[start:end]
            if kind == "id":
                if start >= plain_until and text[end:end + 1] in after_id:
                    long_kind, long_end, plain_until = _long_token(text, start)
                    if long_kind is not None:
                        kind, end = long_kind, long_end
                        value = text[start:end]
                if kind == "id":
                    yield (keywords.get(value, "ID"), value, start, end)
                    pos = end
                    continue
            elif kind == "op":
                first = value[0]
                if first in "./-+<~" and start >= plain_until:
                    long_kind, long_end, plain_until = _long_token(text, start)
                    if long_kind is not None:
                        kind, end = long_kind, long_end
                        value = text[start:end]
                if kind == "op":
                    ttype = operators[value[:2]] if first == "'" else operators[value]
                    if ttype not in special:
                        yield (ttype, value, start, end)
                        pos = end
                        continue
                    if ttype == "LBRACE" or ttype == "DOLLAR_CURLY":
                        modes.append(_NORMAL_MODE)
                        opened.append(start)
                    elif ttype == "RBRACE":
                        if len(modes) > 1:
                            modes.pop()
                            opened.pop()
                    elif ttype == "DQUOTE":
                        # A string without interpolation is one STRING token.
                        m = _STRING_TEXT.match(text, end)
                        stop = end if m is None else m.end()
                        if text.startswith('"', stop):
                            yield ("STRING", "" if m is None else unescape(m.group()), start,
                                   stop + 1)
                            pos = stop + 1
                            continue
                        if not text.startswith("${", stop):
                            raise _unterminated(source, start, "string")
                        yield ("DQUOTE", '"', start, end)
                        if m is not None:
                            yield ("STR", unescape(m.group()), end, stop)
                        modes.append(_STRING_MODE)
                        opened.append(start)
                        pos = stop
                        continue
                    elif ttype == "IND_OPEN":
                        pieces, after, closer = _ind_pieces(text, end)
                        if closer == "''":
                            yield ("IND_STRING", pieces, start, after + 2)
                            pos = after + 2
                            continue
                        if closer is None:
                            raise _unterminated(source, start, "indented string")
                        yield ("IND_OPEN", value, start, end)
                        if pieces:
                            yield ("IND_STR", pieces, end, after)
                        modes.append(_IND_MODE)
                        opened.append(start)
                        pos = after
                        continue
                    elif ttype == "SLASH" and text.startswith("*", end):
                        raise ParseError("unterminated comment", source.span(start, start + 2),
                                         code="E-parse-comment", incomplete=True)
                    elif ttype == "TILDE":
                        raise _unexpected_character(source, start)
                    yield (ttype, value, start, end)
                    pos = end
                    continue
            elif start >= plain_until:  # a number
                long_kind, long_end, plain_until = _long_token(text, start)
                if long_kind is not None:
                    kind, end = long_kind, long_end
                    value = text[start:end]
            if kind == "int":
                yield ("INT", value, start, end)
            elif kind == "float":
                yield ("FLOAT", value, start, end)
            elif kind == "path" or kind == "hpath":
                if value[-1] == "/" or text.startswith("${", end):
                    if _PATH_INTERPOLATES.match(text, end) is None:
                        if text.startswith("/", end):
                            raise ParseError("'//' in a path (allowed only before an "
                                             "interpolation)", source.span(end - 1, end + 1),
                                             code="E-parse-path")
                        raise _trailing_slash(source, start, end)
                    yield ("IPATH", value, start, end)
                    modes.append(_PATH_SLASH_MODE if value[-1] == "/" else _PATH_MODE)
                    opened.append(start)
                else:
                    yield ("PATH" if kind == "path" else "HPATH", value, start, end)
            elif kind == "spath":
                yield ("SPATH", value, start, end)
            else:  # uri
                yield ("URI", value, start, end)
            pos = end
        elif mode == _STRING_MODE:
            if text.startswith("${", pos):
                yield ("DOLLAR_CURLY", "${", pos, pos + 2)
                modes.append(_NORMAL_MODE)
                opened.append(pos)
                pos += 2
            elif text.startswith('"', pos):
                yield ("DQUOTE", '"', pos, pos + 1)
                modes.pop()
                opened.pop()
                pos += 1
            else:
                m = _STRING_TEXT.match(text, pos)
                if m is None:
                    raise _unterminated(source, opened[-1], "string")
                yield ("STR", unescape(m.group()), pos, m.end())
                pos = m.end()
        elif mode == _IND_MODE:
            if text.startswith("${", pos):
                yield ("DOLLAR_CURLY", "${", pos, pos + 2)
                modes.append(_NORMAL_MODE)
                opened.append(pos)
                pos += 2
                continue
            pieces, after, closer = _ind_pieces(text, pos)
            if closer is None:
                raise _unterminated(source, opened[-1], "indented string")
            if pieces:
                yield ("IND_STR", pieces, pos, after)
            pos = after
            if closer == "''":
                yield ("IND_CLOSE", "''", pos, pos + 2)
                modes.pop()
                opened.pop()
                pos += 2
        else:  # inside a path with interpolation
            if text.startswith("${", pos):
                yield ("DOLLAR_CURLY", "${", pos, pos + 2)
                modes[-1] = _PATH_MODE
                modes.append(_NORMAL_MODE)
                opened.append(pos)
                pos += 2
                continue
            m = _PATH_TEXT.match(text, pos)
            if m is not None:
                value = m.group()
                yield ("PATH_STR", value, pos, m.end())
                modes[-1] = _PATH_SLASH_MODE if value[-1] == "/" else _PATH_MODE
                pos = m.end()
                continue
            if mode == _PATH_SLASH_MODE:
                raise _trailing_slash(source, opened[-1], pos)
            yield ("PATH_END", "", pos, pos)
            modes.pop()
            opened.pop()


def _skip(text: str, pos: int) -> int:
    m = _SKIP_RE.match(text, pos)
    return pos if m is None else m.end()


def _long_token(text: str, start: int) -> tuple[str | None, int, int]:
    """A path, `~` path, search path or URI starting at `start`, if there is one there:
    `(kind, end, plain_until)`, kind None when not (the normal token stands)."""
    first = text[start]
    if first == "~":
        m = _HPATH.match(text, start)
        return (None, 0, start) if m is None else ("hpath", m.end(), start)
    if first == "<":
        m = _SPATH.match(text, start)
        return (None, 0, start) if m is None else ("spath", m.end(), start)
    run_end = _PC_RUN.match(text, start).end()  # type: ignore[union-attr]
    after = text[run_end:run_end + 1]
    if after == "/":
        m = _PATH.match(text, start)
        if m is not None:
            return "path", m.end(), start
        return None, 0, run_end
    if after == ":":
        m = _URI.match(text, start)
        if m is not None:
            return "uri", m.end(), start
        return None, 0, start  # a URI may still start later in the run
    return None, 0, run_end


def _ind_pieces(text: str, pos: int) -> tuple[list[tuple[str, bool]], int, str | None]:
    """Scan indented-string text from `pos` up to `${` or the closing `''`.

    Returns the pieces, the offset where scanning stopped, and what stopped it:
    `"${"`, `"''"`, or None at the end of the text."""
    pieces: list[tuple[str, bool]] = []
    length = len(text)
    ind_match = _IND_TEXT.match
    while pos < length:
        m = ind_match(text, pos)
        if m is not None:
            pieces.append((m.group(), True))
            pos = m.end()
            continue
        if text.startswith("''", pos):
            third = text[pos + 2:pos + 3]
            if third == "$":
                pieces.append(("$", False))
                pos += 3
            elif third == "'":
                pieces.append(("''", False))
                pos += 3
            elif third == "\\" and pos + 3 < length:
                char = text[pos + 3]
                pieces.append((_ESCAPED.get(char, char), False))
                pos += 4
            else:
                return pieces, pos, "''"
        elif text.startswith("${", pos):
            return pieces, pos, "${"
        else:  # a lone `$` or `'` (before `''`, `${` or the end)
            pieces.append((text[pos], False))
            pos += 1
    return pieces, pos, None


def _unexpected_character(source: Source, pos: int) -> ParseError:
    char = source.text[pos]
    shown = repr(char)[1:-1] if char.isprintable() else f"U+{ord(char):04X}"
    return ParseError(f"unexpected character '{shown}'", source.span(pos, pos + 1),
                      code="E-parse-character")


def _unterminated(source: Source, pos: int, what: str) -> ParseError:
    width = 2 if what == "indented string" else 1
    return ParseError(f"unterminated {what}", source.span(pos, pos + width),
                      code="E-parse-unterminated", incomplete=True)


def _trailing_slash(source: Source, start: int, end: int) -> ParseError:
    return ParseError("path has a trailing slash", source.span(start, end),
                      code="E-parse-path")
