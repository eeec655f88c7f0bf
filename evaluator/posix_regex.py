"""POSIX extended regular expressions exactly as Nix 2.8's `match` and `split` see them.

Nix compiles patterns with libstdc++'s `std::regex(pattern, std::regex::extended)` and
matches *bytes* (Nix strings are byte strings). This module reproduces that dialect:

* the grammar and its errors: only `^ $ \\ . * + ? ( ) [ { |` may be escaped (`\\d`,
  `\\1`, `\\]` are invalid); `]` and `}` alone are ordinary; quantifiers stack (`a**`,
  `a+?` is `(a+)?` — there are no lazy quantifiers); `{,n}` is invalid; a quantifier
  after `^`, `$`, `(` or `|` is invalid; more than 100,000 automaton states (counted as
  libstdc++ builds them, e.g. `a{99994}`) is "memory limit exceeded";
* bracket expressions: `]` first is literal, backslash is literal, `[:alpha:]` and the
  other C-locale classes (names case-insensitive, plus `w`, `s`, `d`), `[.name.]`
  collating symbols from the POSIX name table, `[=c=]` equivalence (case-folded), ranges
  compared as *signed* chars, libstdc++'s rules for `-`;
* `.` matches any byte but NUL, newline included; `^` and `$` only at the very start and
  end of the subject;
* `match` must match the whole subject; `split` finds matches left to right. With
  alternation, libstdc++ explores every branch and keeps the *longest* match at the
  leftmost position (first found among equally long ones); a greedy repetition that
  already produced a match is not retried with fewer iterations.

Matching runs on Python's `re` (fast, C) over a translated pattern whenever that gives
libstdc++'s answer: always for whole-string `match`, and for `split` when the pattern has
no `|`. `split` with `|` finds each match's start with `re` and its extent with a faithful
emulation of libstdc++'s backtracking executor (`posix_regex_nfa`).

Subjects are byte strings in disguise: text that is not ASCII is converted to one char per
UTF-8 byte (latin-1) before matching and back afterwards, so `.` matches one byte of `é`
as Nix's does and a split-off half comes back as a lone surrogate escape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .posix_regex_nfa import Nfa

Node = tuple[Any, ...]
"""A parsed pattern piece (see "syntax" below)."""

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


# --------------------------------------------------------------------------- syntax
# Nodes are tuples; `kind` first:
#   ("char", byte)  ("any",)  ("set", frozenset of bytes)  ("bol",)  ("eol",)
#   ("group", index, node)  ("cat", [nodes])  ("alt", [nodes])  ("empty",)
#   ("star" | "plus" | "opt", node)  ("interval", node, min, max or None)


@dataclass
class _Sized:
    """A parsed piece with the automaton states libstdc++ would insert for it (`total`)
    and the states reachable from its start (`size`, what a `{m,n}` copies)."""

    node: Node
    total: int
    size: int


class _Parser:
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


# ------------------------------------------------------------------------ analysis


def _nullable(node: Node) -> bool:
    """Whether `node` can match the empty string."""
    kind = node[0]
    if kind in ("char", "any", "set"):
        return False
    if kind in ("bol", "eol", "empty", "star", "opt"):
        return True
    if kind == "group":
        return _nullable(node[2])
    if kind == "cat":
        return all(_nullable(n) for n in node[1])
    if kind == "alt":
        return any(_nullable(n) for n in node[1])
    if kind == "plus":
        return _nullable(node[1])
    return node[2] == 0 or _nullable(node[1])  # interval


def _has_group(node: Node) -> bool:
    kind = node[0]
    if kind == "group":
        return True
    if kind in ("cat", "alt"):
        return any(_has_group(n) for n in node[1])
    if kind in ("star", "plus", "opt", "interval"):
        return _has_group(node[1])
    return False


def _has_empty_loop_with_group(node: Node) -> bool:
    """Whether some repetition's body can match empty and contains a group."""
    kind = node[0]
    if kind in ("star", "plus", "opt", "interval"):
        body = node[1]
        if _nullable(body) and _has_group(body):
            return True
        return _has_empty_loop_with_group(body)
    if kind == "group":
        return _has_empty_loop_with_group(node[2])
    if kind in ("cat", "alt"):
        return any(_has_empty_loop_with_group(n) for n in node[1])
    return False


# ------------------------------------------------------------------------ translation


def _set_to_python(chars: frozenset[int]) -> str:
    if not chars:
        return "(?!)"
    if len(chars) == 1:
        return re.escape(chr(next(iter(chars))))
    parts: list[str] = []
    ordered = sorted(chars)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        lo, hi = ordered[i], ordered[j]
        parts.append(_class_char(lo) if lo == hi else
                     f"{_class_char(lo)}{'' if hi == lo + 1 else '-'}{_class_char(hi)}")
        i = j + 1
    return "[" + "".join(parts) + "]"


def _class_char(byte: int) -> str:
    return f"\\x{byte:02x}"


_QUANTIFIED = frozenset(("star", "plus", "opt", "interval"))


def _to_python(node: Node) -> str:
    kind = node[0]
    if kind == "char":
        return re.escape(chr(node[1]))
    if kind == "any":
        return "[^\\x00]"
    if kind == "set":
        return _set_to_python(node[1])
    if kind == "bol":
        return "\\A"
    if kind == "eol":
        return "\\Z"
    if kind == "empty":
        return ""
    if kind == "group":
        return "(" + _to_python(node[2]) + ")"
    if kind == "cat":
        return "".join(_to_python(n) for n in node[1])
    if kind == "alt":
        return "|".join(_to_python(n) for n in node[1])
    inner = node[1]
    body = _to_python(inner)
    if inner[0] in _QUANTIFIED:
        body = "(?:" + body + ")"
    if kind == "star":
        return body + "*"
    if kind == "plus":
        return body + "+"
    if kind == "opt":
        return body + "?"
    low, high = node[2], node[3]
    if high is None:
        return f"{body}{{{low},}}"
    return f"{body}{{{low}}}" if low == high else f"{body}{{{low},{high}}}"


# ------------------------------------------------------------------------------ API


def to_bytes_text(text: str) -> str:
    """`text` with one char per UTF-8 byte (identity for ASCII), the form patterns and
    subjects are matched in."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def from_bytes_text(text: str) -> str:
    """The inverse of `to_bytes_text`: bytes that are not valid UTF-8 become surrogate
    escapes, as everywhere in ndx."""
    if text.isascii():
        return text
    return text.encode("latin-1").decode("utf-8", "surrogateescape")


class Regex:
    """A compiled pattern (see the module docstring); build with `compile_regex`."""

    def __init__(self, pattern: str) -> None:
        parser = _Parser(to_bytes_text(pattern))
        tree = parser.parse()
        self.pattern = pattern
        self.groups = parser.groups
        self.tree = tree
        self.python = re.compile(_to_python(tree), re.DOTALL)
        # Python's `re` picks libstdc++'s match unless the longest-match rule matters
        # (alternatives, in a search) or a repetition may iterate without consuming
        # anything while capturing (libstdc++ allows one such extra iteration, Python
        # none, which changes what the groups hold).
        self.exact_engine = _has_empty_loop_with_group(tree)
        self.longest = parser.has_alternation or self.exact_engine
        self._nfa: Nfa | None = None

    def _automaton(self) -> Nfa:
        if self._nfa is None:
            from .posix_regex_nfa import compile_nfa

            self._nfa = compile_nfa(self.tree, self.groups)
        return self._nfa

    def match(self, subject: str) -> list[str | None] | None:
        """`builtins.match`: the groups when the whole subject matches, else None."""
        text = to_bytes_text(subject)
        if self.exact_engine:
            from .posix_regex_nfa import longest_match_at

            if self.python.fullmatch(text) is None:
                return None
            result = longest_match_at(self._automaton(), text, 0, 0, False, exact=True)
            if result is None:
                raise AssertionError(f"regex engines disagree on {self.pattern!r}")
            return [None if s < 0 else from_bytes_text(text[s:e]) for s, e in result[1]]
        m = self.python.fullmatch(text)
        if m is None:
            return None
        return [None if g is None else from_bytes_text(g) for g in m.groups()]

    def spans(self, subject: str) -> Iterator[tuple[int, int, tuple[tuple[int, int], ...]]]:
        """Successive matches in `subject` already converted by `to_bytes_text`, as
        libstdc++'s `regex_iterator` finds them: (start, end, group spans) with (-1, -1)
        for a group that did not participate."""
        if not self.longest:
            for m in self.python.finditer(subject):
                yield m.start(), m.end(), tuple(m.span(i + 1) for i in range(self.groups))
            return
        from .posix_regex_nfa import longest_match_at

        nfa = self._automaton()
        search = self.python.search
        n = len(subject)
        # Mirrors `std::regex_iterator`: after an empty match, first try a non-empty one
        # at the same place, else search again one byte further; `^` can only match
        # while nothing has been searched past (libstdc++'s `match_prev_avail`).
        prev_avail = False
        found = search(subject, 0)
        match = None
        if found is not None:
            match = self._extent(nfa, subject, found.start(), 0, False)
        while match is not None:
            yield match
            start, end, _ = match
            if start == end:
                if end == n:
                    return
                retry = longest_match_at(nfa, subject, end, -1 if prev_avail else end, True)
                if retry is not None:
                    match = (end, retry[0], retry[1])
                    continue
                next_from = end + 1
            else:
                next_from = end
            prev_avail = True
            found = search(subject, next_from)
            match = None if found is None else \
                self._extent(nfa, subject, found.start(), -1, False)

    def _extent(self, nfa: Nfa, subject: str, start: int, bol_at: int,
                not_null: bool) -> tuple[int, int, tuple[tuple[int, int], ...]]:
        from .posix_regex_nfa import longest_match_at

        result = longest_match_at(nfa, subject, start, bol_at, not_null)
        if result is None:  # `re` found a match starting here, so this cannot happen
            raise AssertionError(f"regex engines disagree on {self.pattern!r}")
        return start, result[0], result[1]

    def split(self, subject: str) -> list[str | list[str | None]] | None:
        """`builtins.split`: text between matches and each match's groups, or None when
        nothing matches (Nix then returns the subject itself, context included)."""
        text = to_bytes_text(subject)
        out: list[str | list[str | None]] = []
        position = 0
        for start, end, spans in self.spans(text):
            out.append(from_bytes_text(text[position:start]))
            out.append([None if s < 0 else from_bytes_text(text[s:e]) for s, e in spans])
            position = end
        if not out:
            return None
        out.append(from_bytes_text(text[position:]))
        return out


_CACHE: dict[str, Regex] = {}
_CACHE_LIMIT = 4096


def compile_regex(pattern: str) -> Regex:
    """The compiled form of `pattern` (cached); RegexError when it is invalid."""
    regex = _CACHE.get(pattern)
    if regex is None:
        regex = Regex(pattern)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[pattern] = regex
    return regex
