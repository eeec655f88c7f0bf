"""libstdc++'s POSIX regex executor, emulated: which match `split` finds when a pattern
has alternatives.

libstdc++ compiles a pattern to an automaton and searches it depth first. In POSIX mode
it differs from a backtracking (Perl, Python) engine in three ways, all reproduced here:

* at an alternative it explores *both* branches (left first), even after one matched;
* an accepting path replaces the recorded match only if it ends strictly further, so the
  result is the first-found among the longest;
* a greedy repetition whose "one more iteration" branch led to a match does not try
  fewer iterations (a pruning that keeps `a?(ab)?` on "ab" at the match "a").

An iteration may match the empty string at most twice at one position (its `_M_rep_count`
rule). The automaton is built with the same shape as libstdc++'s (`{m,n}` expanded into
copies, left-associative alternatives), and the search is iterative, so long subjects
cannot exhaust the Python stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Opcodes.
_MATCH, _REPEAT, _ALT, _BEGIN, _END, _BOL, _EOL, _ACCEPT, _DUMMY = range(9)

# Work-stack entries after a state is visited.
_VISIT, _UNADVANCE, _AFTER_REPEAT, _RESTORE_COUNT, _AFTER_LEFT, _AFTER_RIGHT, \
    _RESTORE_BEGIN, _RESTORE_END = range(8)

_NOT_NUL = frozenset(chr(c) for c in range(1, 256))


@dataclass
class Nfa:
    """Automaton states as parallel lists; state 0 opens the whole match."""

    op: list[int]
    next: list[int]
    alt: list[int]
    arg: list[object]
    groups: int


class _Builder:
    def __init__(self) -> None:
        self.op: list[int] = []
        self.next: list[int] = []
        self.alt: list[int] = []
        self.arg: list[object] = []

    def new(self, op: int, arg: object = None, alt: int = -1) -> int:
        self.op.append(op)
        self.next.append(-1)
        self.alt.append(alt)
        self.arg.append(arg)
        return len(self.op) - 1

    def build(self, node: tuple[Any, ...]) -> tuple[int, int]:
        """The (start, end) states of `node`; `end`'s next is linked by the caller."""
        kind = node[0]
        if kind == "char":
            s = self.new(_MATCH, frozenset((chr(node[1]),)))
            return s, s
        if kind == "any":
            s = self.new(_MATCH, _NOT_NUL)
            return s, s
        if kind == "set":
            s = self.new(_MATCH, frozenset(chr(c) for c in node[1]))
            return s, s
        if kind == "bol" or kind == "eol":
            s = self.new(_BOL if kind == "bol" else _EOL)
            return s, s
        if kind == "empty":
            s = self.new(_DUMMY)
            return s, s
        if kind == "group":
            begin = self.new(_BEGIN, node[1])
            inner_start, inner_end = self.build(node[2])
            end = self.new(_END, node[1])
            self.next[begin] = inner_start
            self.next[inner_end] = end
            return begin, end
        if kind == "cat":
            start, end = self.build(node[1][0])
            for piece in node[1][1:]:
                s, e = self.build(piece)
                self.next[end] = s
                end = e
            return start, end
        if kind == "alt":
            start, end = self.build(node[1][0])
            for branch in node[1][1:]:
                s, e = self.build(branch)
                join = self.new(_DUMMY)
                fork = self.new(_ALT, alt=start)  # left branch in `alt`, tried first
                self.next[fork] = s
                self.next[end] = join
                self.next[e] = join
                start, end = fork, join
            return start, end
        body = node[1]
        if kind == "star":
            s, e = self.build(body)
            loop = self.new(_REPEAT, alt=s)
            self.next[e] = loop
            return loop, loop
        if kind == "plus":
            s, e = self.build(body)
            loop = self.new(_REPEAT, alt=s)
            self.next[e] = loop
            return s, loop
        if kind == "opt":
            s, e = self.build(body)
            join = self.new(_DUMMY)
            choice = self.new(_REPEAT, alt=s)
            self.next[e] = join
            self.next[choice] = join
            return choice, join
        # {low,high}
        low, high = node[2], node[3]
        start = end = self.new(_DUMMY)
        for _ in range(low):
            s, e = self.build(body)
            self.next[end] = s
            end = e
        if high is None:
            s, e = self.build(body)
            loop = self.new(_REPEAT, alt=s)
            self.next[e] = loop
            self.next[end] = loop
            return start, loop
        join = self.new(_DUMMY)
        for _ in range(high - low):
            s, e = self.build(body)
            choice = self.new(_REPEAT, alt=s)
            self.next[choice] = join
            self.next[end] = choice
            end = e
        self.next[end] = join
        return start, join


def compile_nfa(tree: tuple[Any, ...], groups: int) -> Nfa:
    """The automaton for a parsed pattern (see `posix_regex`)."""
    b = _Builder()
    begin = b.new(_BEGIN, 0)
    s, e = b.build(tree)
    end = b.new(_END, 0)
    accept = b.new(_ACCEPT)
    b.next[begin] = s
    b.next[e] = end
    b.next[end] = accept

    def skip(state: int) -> int:
        while state >= 0 and b.op[state] == _DUMMY:
            state = b.next[state]
        return state

    for i in range(len(b.op)):
        b.next[i] = skip(b.next[i])
        b.alt[i] = skip(b.alt[i])
    return Nfa(b.op, b.next, b.alt, b.arg, groups)


def longest_match_at(nfa: Nfa, text: str, start: int, bol_at: int, not_null: bool,
                     exact: bool = False) -> tuple[int, tuple[tuple[int, int], ...]] | None:
    """The match libstdc++ reports for a search attempt at `start`: (end, group spans),
    spans (-1, -1) for groups that did not participate; None when there is none.
    `^` matches only at `bol_at`; `not_null` rejects an empty match; `exact` accepts
    only a match that reaches the end of `text` (`regex_match`)."""
    op, nxt, alt, arg = nfa.op, nfa.next, nfa.alt, nfa.arg
    n = len(text)
    cur = start
    has_sol = False
    best_end = -1
    best: list[int] | None = None
    # Current group spans, flat: [start0, end0, start1, end1, …]; -1 when unset.
    spans = [-1] * (2 * (nfa.groups + 1))
    counts: dict[int, tuple[int, int]] = {}
    stack: list[tuple[int, int, object]] = [(_VISIT, 0, None)]
    push = stack.append
    pop = stack.pop
    while stack:
        action, state, saved = pop()
        if action == _VISIT:
            code = op[state]
            if code == _MATCH:
                if cur < n and text[cur] in arg[state]:  # type: ignore[operator]
                    cur += 1
                    push((_UNADVANCE, 0, None))
                    push((_VISIT, nxt[state], None))
            elif code == _REPEAT:
                position, count = counts.get(state, (-1, 0))
                push((_AFTER_REPEAT, state, None))
                if count == 0 or position != cur:
                    push((_RESTORE_COUNT, state, (position, count)))
                    counts[state] = (cur, 1)
                    push((_VISIT, alt[state], None))
                elif count < 2:
                    push((_RESTORE_COUNT, state, (position, count)))
                    counts[state] = (position, count + 1)
                    push((_VISIT, alt[state], None))
            elif code == _ALT:
                push((_AFTER_LEFT, state, None))
                push((_VISIT, alt[state], None))
            elif code == _BEGIN:
                index = 2 * arg[state]  # type: ignore[operator]
                push((_RESTORE_BEGIN, index, spans[index]))
                spans[index] = cur
                push((_VISIT, nxt[state], None))
            elif code == _END:
                index = 2 * arg[state] + 1  # type: ignore[operator]
                push((_RESTORE_END, index, spans[index]))
                spans[index] = cur
                push((_VISIT, nxt[state], None))
            elif code == _BOL:
                if cur == bol_at:
                    push((_VISIT, nxt[state], None))
            elif code == _EOL:
                if cur == n:
                    push((_VISIT, nxt[state], None))
            else:  # accept
                has_sol = not (not_null and cur == start) and (not exact or cur == n)
                if has_sol and cur > best_end:
                    best_end = cur
                    best = list(spans)
        elif action == _UNADVANCE:
            cur -= 1
        elif action == _AFTER_REPEAT:
            if not has_sol:
                push((_VISIT, nxt[state], None))
        elif action == _RESTORE_COUNT:
            counts[state] = saved  # type: ignore[assignment]
        elif action == _AFTER_LEFT:
            push((_AFTER_RIGHT, 0, has_sol))
            has_sol = False
            push((_VISIT, nxt[state], None))
        elif action == _AFTER_RIGHT:
            has_sol = has_sol or bool(saved)
        else:  # restore a group boundary
            spans[state] = saved  # type: ignore[call-overload]
    if best is None:
        return None
    groups = []
    for g in range(1, nfa.groups + 1):
        s, e = best[2 * g], best[2 * g + 1]
        # A group counts as matched once its end was recorded on the accepted path.
        groups.append((s, e) if e >= 0 else (-1, -1))
    return best_end, tuple(groups)
