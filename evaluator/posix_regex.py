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

The grammar is parsed by `posix_regex_syntax`. Matching runs on Python's `re` (fast, C)
over a translated pattern whenever that gives libstdc++'s answer: for whole-string
`match`, and for `split` unless alternatives of different lengths make the longest-match
rule matter; then `re` finds where each match starts and a faithful emulation of
libstdc++'s backtracking executor (`posix_regex_nfa`) its extent. (A repetition that may
iterate without consuming while it captures also goes to the emulation.)

Subjects are byte strings in disguise: text that is not ASCII is converted to one char per
UTF-8 byte (latin-1) before matching and back afterwards, so `.` matches one byte of `é`
as Nix's does and a split-off half comes back as a lone surrogate escape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .posix_regex_syntax import Node, Parser, RegexError

if TYPE_CHECKING:
    from .posix_regex_nfa import Nfa

__all__ = ["Regex", "RegexError", "compile_regex", "from_bytes_text", "to_bytes_text"]

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


def _fixed_width(node: Node) -> int | None:
    """The number of bytes every match of `node` has, or None when it varies."""
    kind = node[0]
    if kind in ("char", "any", "set"):
        return 1
    if kind in ("bol", "eol", "empty"):
        return 0
    if kind == "group":
        return _fixed_width(node[2])
    if kind == "cat":
        total = 0
        for part in node[1]:
            width = _fixed_width(part)
            if width is None:
                return None
            total += width
        return total
    if kind == "alt":
        widths = {_fixed_width(n) for n in node[1]}
        return widths.pop() if len(widths) == 1 else None
    return None  # repetitions


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
        parser = Parser(to_bytes_text(pattern))
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
        # With every match at a position equally long (no repetition, alternatives of
        # one width), the longest is the first, which is what `re` finds.
        self.longest = (parser.has_alternation and _fixed_width(tree) is None) \
            or self.exact_engine
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
