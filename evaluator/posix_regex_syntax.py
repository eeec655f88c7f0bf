"""The grammar of libstdc++'s POSIX extended regexes, which Nix 2.8's `match` and `split`
use: a recursive-descent parser giving a small tree, with libstdc++'s errors and its count
of automaton states (see `posix_regex` for the dialect).

Nodes are tuples, kind first:

    ("char", byte)  ("any",)  ("set", frozenset of bytes)  ("bol",)  ("eol",)  ("empty",)
    ("group", index, node)  ("cat", [nodes])  ("alt", [nodes])
    ("star" | "plus" | "opt", node)  ("interval", node, min, max or None)

Patterns are parsed as bytes: one char per byte (see `posix_regex.to_bytes_text`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Node = tuple[Any, ...]
"""A parsed pattern piece (see the module docstring)."""

STATE_LIMIT = 100_000
"""libstdc++'s `_GLIBCXX_REGEX_STATE_LIMIT`: more automaton states is an error."""

_SPECIAL = frozenset("^$\\.*+?()[{|")
"""Characters that are operators in an extended regex and the only ones `\\` may escape."""

_COLLATING_NAMES = (
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "alert", "backspace", "tab",
    "newline", "vertical-tab", "form-feed", "carriage-return", "SO", "SI", "DLE", "DC1",
    "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "IS4", "IS3",
    "IS2", "IS1", "space", "exclamation-mark", "quotation-mark", "number-sign",
    "dollar-sign", "percent-sign", "ampersand", "apostrophe", "left-parenthesis",
    "right-parenthesis", "asterisk", "plus-sign", "comma", "hyphen", "period", "slash",
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "colon", "semicolon", "less-than-sign", "equals-sign", "greater-than-sign",
    "question-mark", "commercial-at", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "left-square-bracket", "backslash", "right-square-bracket", "circumflex",
    "underscore", "grave-accent", *"abcdefghijklmnopqrstuvwxyz", "left-curly-bracket",
    "vertical-line", "right-curly-bracket", "tilde", "DEL",
)
"""The POSIX collating-element names libstdc++ knows, indexed by the character code."""

_COLLATING_CODES = {name: code for code, name in enumerate(_COLLATING_NAMES)}


def _ascii_class(test: object) -> frozenset[int]:
    return frozenset(c for c in range(128) if test(chr(c)))  # type: ignore[operator]


_DIGITS = _ascii_class(str.isdigit)
_UPPER = _ascii_class(str.isupper)
_LOWER = _ascii_class(str.islower)
_ALPHA = _UPPER | _LOWER
_ALNUM = _ALPHA | _DIGITS
_SPACE = frozenset(b" \t\n\v\f\r")
_CNTRL = frozenset(range(32)) | {127}
_GRAPH = frozenset(range(33, 127))
_CLASSES: dict[str, frozenset[int]] = {
    "alnum": _ALNUM, "alpha": _ALPHA, "blank": frozenset(b" \t"), "cntrl": _CNTRL,
    "digit": _DIGITS, "d": _DIGITS, "graph": _GRAPH, "lower": _LOWER,
    "print": _GRAPH | {32}, "punct": _GRAPH - _ALNUM, "space": _SPACE, "s": _SPACE,
    "upper": _UPPER, "xdigit": _DIGITS | frozenset(b"abcdefABCDEF"), "w": _ALNUM | {95},
}
"""Character classes in the C locale (what Nix's regexes use): ASCII only."""

_ALL_BYTES = frozenset(range(256))


class RegexError(ValueError):
    """An invalid pattern. `too_big` distinguishes libstdc++'s `error_space` (Nix says
    "memory limit exceeded by regular expression") from every syntax error."""

    def __init__(self, message: str, too_big: bool = False) -> None:
        super().__init__(message)
        self.too_big = too_big



@dataclass
class _Sized:
    """A parsed piece with the automaton states libstdc++ would insert for it (`total`)
    and the states reachable from its start (`size`, what a `{m,n}` copies)."""

    node: Node
    total: int
    size: int


class Parser:
    """Recursive descent over libstdc++'s ERE grammar (see the module docstring)."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0
        self.groups = 0
        self.total = 0
        self.has_alternation = False

    # -- helpers
    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def error(self, what: str) -> RegexError:
        return RegexError(what)

    def count(self, states: int) -> None:
        self.total += states
        if self.total > STATE_LIMIT:
            raise RegexError("too many automaton states", too_big=True)

    # -- grammar
    def parse(self) -> Node:
        self.count(1)  # the whole match's sub-expression begin
        body = self.disjunction()
        if self.pos < len(self.text):
            raise self.error("unmatched ')' or a quantifier with nothing to repeat")
        self.count(2)  # its end and the accepting state
        return body.node

    def disjunction(self) -> _Sized:
        first = self.alternative()
        branches = [first]
        while self.peek() == "|":
            self.pos += 1
            self.has_alternation = True
            branches.append(self.alternative())
            self.count(2)  # the branch point and the join
        if len(branches) == 1:
            return first
        return _Sized(("alt", [b.node for b in branches]),
                      sum(b.total for b in branches) + 2 * (len(branches) - 1),
                      sum(b.size for b in branches) + 2 * (len(branches) - 1))

    def alternative(self) -> _Sized:
        terms: list[_Sized] = []
        while True:
            term = self.term()
            if term is None:
                break
            terms.append(term)
        self.count(1)  # the dummy state that ends every sequence
        nodes = [t.node for t in terms]
        node = ("cat", nodes) if len(nodes) > 1 else nodes[0] if nodes else ("empty",)
        return _Sized(node, sum(t.total for t in terms) + 1, sum(t.size for t in terms) + 1)

    def term(self) -> _Sized | None:
        c = self.peek()
        if c is None:
            return None
        if c == "^" or c == "$":
            self.pos += 1
            self.count(1)
            return _Sized(("bol",) if c == "^" else ("eol",), 1, 1)
        atom = self.atom()
        if atom is None:
            return None
        while True:
            quantified = self.quantifier(atom)
            if quantified is None:
                return atom
            atom = quantified

    def atom(self) -> _Sized | None:
        c = self.peek()
        if c is None:
            return None
        if c == ".":
            self.pos += 1
            self.count(1)
            return _Sized(("any",), 1, 1)
        if c == "\\":
            self.pos += 1
            escaped = self.peek()
            if escaped is None:
                raise self.error("trailing backslash")
            if escaped not in _SPECIAL:
                raise self.error(f"invalid escape '\\{escaped}'")
            self.pos += 1
            self.count(1)
            return _Sized(("char", ord(escaped)), 1, 1)
        if c == "(":
            self.pos += 1
            self.groups += 1
            index = self.groups
            self.count(1)
            inner = self.disjunction()
            if self.peek() != ")":
                raise self.error("unmatched '('")
            self.pos += 1
            self.count(1)
            return _Sized(("group", index, inner.node), inner.total + 2, inner.size + 2)
        if c == "[":
            self.pos += 1
            chars = self.bracket()
            self.count(1)
            return _Sized(("set", chars), 1, 1)
        if c in "*+?{|)":
            return None
        self.pos += 1
        self.count(1)
        return _Sized(("char", ord(c)), 1, 1)

    def quantifier(self, atom: _Sized) -> _Sized | None:
        c = self.peek()
        if c == "*" or c == "+":
            self.pos += 1
            self.count(1)
            return _Sized(("star" if c == "*" else "plus", atom.node), atom.total + 1,
                          atom.size + 1)
        if c == "?":
            self.pos += 1
            self.count(2)
            return _Sized(("opt", atom.node), atom.total + 2, atom.size + 2)
        if c != "{":
            return None
        self.pos += 1
        low = self.brace_number()
        if low is None:
            raise self.error("invalid interval: a count must follow '{'")
        high: int | None = low
        if self.brace_token() == ",":
            self.pos += 1
            high = self.brace_number()
        if self.brace_token() != "}":
            raise self.error("unterminated interval")
        self.pos += 1
        if high is not None and high < low:
            raise self.error("invalid interval: the maximum is smaller than the minimum")
        size = atom.size
        if high is None:
            added = 1 + low * size + size + 1
        else:
            added = 1 + low * size + 1 + (high - low) * (size + 1)
        self.count(added)
        return _Sized(("interval", atom.node, low, high), atom.total + added, added)

    def brace_token(self) -> str:
        c = self.peek()
        if c is None:
            raise self.error("unterminated interval")
        if c.isdigit() and c.isascii() or c in ",}":
            return c
        raise self.error(f"invalid character '{c}' in an interval")

    def brace_number(self) -> int | None:
        start = self.pos
        if not self.brace_token().isdigit():
            return None
        while self.pos < len(self.text) and "0" <= self.text[self.pos] <= "9":
            self.pos += 1
        return int(self.text[start:self.pos])

    # -- bracket expressions
    def bracket(self) -> frozenset[int]:
        negate = self.peek() == "^"
        if negate:
            self.pos += 1
        chars: set[int] = set()
        at_start = True
        # libstdc++'s `_BracketState`: the last single char (it may start a range),
        # "class" after a class, or None.
        last: int | str | None = None

        def flush(new: int | str | None) -> None:
            nonlocal last
            if type(last) is int:
                chars.add(last)
            last = new

        kind, value = self.bracket_token(at_start)
        at_start = False
        if kind == "char":
            last = value  # type: ignore[assignment]
        elif kind == "dash":
            last = ord("-")
        else:
            self.pos = self.token_start
        while True:
            kind, value = self.bracket_token(at_start)
            if kind == "end":
                break
            if kind == "coll":
                chars.add(value)  # type: ignore[arg-type]
                flush(value)  # type: ignore[arg-type]
            elif kind == "equiv":
                flush("class")
                folded = _fold(value)  # type: ignore[arg-type]
                chars.update(c for c in range(256) if _fold(c) == folded)
            elif kind == "class":
                flush("class")
                chars.update(value)  # type: ignore[arg-type]
            elif kind == "char":
                flush(value)  # type: ignore[arg-type]
            else:  # a dash
                following, end_value = self.bracket_token(False)
                if following == "end":
                    flush(ord("-"))
                    break
                if last == "class":
                    raise self.error("a range cannot start with a character class")
                if type(last) is not int:
                    raise self.error("invalid '-' in a bracket expression")
                if following == "char":
                    high = end_value
                elif following == "dash":
                    high = ord("-")
                else:
                    raise self.error("invalid end of a range in a bracket expression")
                if _signed(last) > _signed(high):  # type: ignore[arg-type]
                    raise self.error("invalid range in a bracket expression")
                lo, hi = _signed(last), _signed(high)  # type: ignore[arg-type]
                chars.update(c for c in range(256) if lo <= _signed(c) <= hi)
                last = None
        flush(None)
        return _ALL_BYTES - chars if negate else frozenset(chars)

    def bracket_token(self, at_start: bool) -> tuple[str, object]:
        """The next token inside brackets: ("end"|"dash"|"char"|"coll"|"equiv"|"class",
        value). `token_start` remembers where it began."""
        self.token_start = self.pos
        c = self.peek()
        if c is None:
            raise self.error("unterminated bracket expression")
        self.pos += 1
        if c == "-":
            return "dash", None
        if c == "]" and not at_start:
            return "end", None
        if c == "[":
            opener = self.peek()
            if opener is None:
                raise self.error("unterminated bracket expression")
            if opener in ".:=":
                self.pos += 1
                close = self.text.find(opener + "]", self.pos)
                name = self.text[self.pos:close] if close >= 0 else ""
                if close < 0:
                    raise self.error(f"unterminated '[{opener}' in a bracket expression")
                self.pos = close + 2
                if opener == ":":
                    chars = _CLASSES.get(name.lower())
                    if chars is None:
                        raise self.error(f"unknown character class '{name}'")
                    return "class", chars
                code = _COLLATING_CODES.get(name)
                if code is None:
                    raise self.error(f"unknown collating element '{name}'")
                return ("coll" if opener == "." else "equiv"), code
            return "char", ord("[")
        return "char", ord(c)


def _signed(byte: int) -> int:
    """A byte as a signed char (how libstdc++ compares range ends)."""
    return byte - 256 if byte >= 128 else byte


def _fold(byte: int) -> int:
    """C-locale `tolower` (what `[=c=]` equivalence compares)."""
    return byte + 32 if 65 <= byte <= 90 else byte
