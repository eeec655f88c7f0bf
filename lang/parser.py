"""The LALR(1) parser: lark builds the table from grammar/ndx.lark, a small loop runs it.

Lark computes (and would run) the LALR table; we run it ourselves because the loop is
the hot path and ours does less per token than a general-purpose one can:

* tokens are plain tuples from lang/lexer.py (no Token objects);
* each reduction calls its `Builder` method directly with the list of values (the
  Transformer is applied inline, there is no intermediate tree);
* pass-through rules (`op_or: op_and`, one per precedence level, 15 between an atom and
  an expression) only change the state; the whole chain from one state under a given
  lookahead is looked up once and remembered.

The table is computed once per grammar and lark version and kept as JSON in the user's
cache directory (`$NDX_CACHE_DIR`, else `$XDG_CACHE_HOME/ndx`, else `~/.cache/ndx`); when
that is not writable it is simply recomputed (about 0.1 s).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

from .ast import Expr
from .builder import Builder
from .errors import ParseError
from .lexer import Token, tokenize
from .messages import expected_after_reductions, syntax_error
from .source import Source

# Bump when the shape of the cached table changes.
_TABLE_FORMAT = 2

# The deepest the parser's stack may grow. Nix's bison parser stops at 10,000 entries
# ("memory exhausted"); ndx goes further, because real generated code (10,000 nested lets)
# must evaluate, and stops at a bound that keeps memory small and the error clean.
MAX_STACK_DEPTH = 200_000


class ParseTable:
    """The LALR table in the shape the parsing loop wants.

    `actions[state][terminal]` is the next state to shift to (>= 0) or `~rule` to reduce;
    `gotos[state][nonterminal]` is the state after a reduction; `rules[rule]` is
    `(nonterminal, length)` and `builders[rule]` the Builder method name, or None for a
    pass-through rule.
    """

    __slots__ = ("actions", "builders", "chains", "end", "gotos", "rules", "start")

    def __init__(self, data: dict[str, Any]) -> None:
        self.actions: list[dict[str, int]] = data["actions"]
        self.gotos: list[dict[str, int]] = data["gotos"]
        self.rules: list[tuple[str, int]] = [(rule[0], rule[1]) for rule in data["rules"]]
        self.builders: list[str | None] = data["builders"]
        self.start: int = data["start"]
        self.end: int = data["end"]
        # (state below, state, lookahead) -> the state after the pass-through reductions
        self.chains: dict[tuple[int, int, str], int] = {}


def grammar_text() -> str:
    """The text of grammar/ndx.lark, read from the installed `ndx.grammar` package."""
    return resources.files("ndx.grammar").joinpath("ndx.lark").read_text(encoding="utf-8")


def _compute_table(text: str) -> dict[str, Any]:
    """Let lark analyse the grammar; strict mode makes any conflict an error."""
    from lark import Lark
    from lark.lexer import Lexer

    class _TokensComeFromLangLexer(Lexer):
        # Lark wants a lexer for declared-only terminals; ours lives in lang/lexer.py.
        def __init__(self, conf: Any) -> None:
            pass

        def lex(self, *args: Any) -> Iterator[Any]:
            raise NotImplementedError

    lark = Lark(text, parser="lalr", lexer=_TokensComeFromLangLexer, strict=True)
    table = lark.parser.parser._parse_table
    rule_index: dict[Any, int] = {}
    rules: list[tuple[str, int]] = []
    builders: list[str | None] = []
    for rule in lark.rules:
        rule_index[rule] = len(rules)
        rules.append((rule.origin.name, len(rule.expansion)))
        if rule.alias is None and len(rule.expansion) != 1:
            raise AssertionError(f"grammar rule needs a builder alias: {rule}")
        builders.append(rule.alias)
    actions: list[dict[str, int]] = []
    gotos: list[dict[str, int]] = []
    end = table.end_states["start"]
    for state in range(len(table.states)):
        row: dict[str, int] = {}
        goto: dict[str, int] = {}
        for symbol, (action, argument) in table.states[state].items():
            if symbol.isupper():
                if action.name == "Shift":
                    if state == end and symbol == "$END":
                        continue  # the loop stops here instead
                    row[symbol] = argument
                else:
                    row[symbol] = ~rule_index[argument]
            else:
                goto[symbol] = argument
        # sorted, so nothing depends on the order lark's sets happened to have
        actions.append(dict(sorted(row.items())))
        gotos.append(dict(sorted(goto.items())))
    return {"format": _TABLE_FORMAT, "actions": actions, "gotos": gotos, "rules": rules,
            "builders": builders, "start": table.start_states["start"], "end": end}


def _cache_path(key: str) -> str:
    base = os.environ.get("NDX_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "ndx")
    return os.path.join(base, f"parse-table-{key}.json")


def load_table() -> ParseTable:
    """The parse table, from the cache when it is there."""
    import lark

    text = grammar_text()
    key = hashlib.sha256(
        f"{_TABLE_FORMAT}\0{lark.__version__}\0{text}".encode()).hexdigest()[:24]
    path = _cache_path(key)
    try:
        with open(path, encoding="utf-8") as cached:
            data = json.load(cached)
        if data.get("format") == _TABLE_FORMAT:
            return ParseTable(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        pass  # no cache, or a damaged one: compute the table again
    data = _compute_table(text)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, separators=(",", ":"))
        os.replace(temporary, path)
    except OSError:
        pass
    return ParseTable(data)


_table: ParseTable | None = None


def table() -> ParseTable:
    """The parse table of this process (loaded on first use)."""
    global _table
    if _table is None:
        _table = load_table()
    return _table


def parse_source(source: Source) -> Expr:
    """Parse a whole source text into its expression."""
    nul = source.text.find("\0")
    if nul != -1:
        # Nix reads source as a C string and silently stops at a NUL byte; we say so.
        raise ParseError("NUL character in source text", source.span(nul, nul + 1),
                         code="E-parse-character")
    parse_table = table()
    builder = Builder(source)
    callbacks: list[Callable[[list[Any]], Any] | None] = [
        None if name is None else getattr(builder, name) for name in parse_table.builders]
    # The tree has no reference cycles, yet building it allocates so much that the cycle
    # collector would run over and over the growing tree (a third of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(parse_table, tokenize(source), callbacks, source)  # type: ignore[no-any-return]
    finally:
        if collecting:
            gc.enable()


def _run(parse_table: ParseTable, tokens: Iterator[Token],
         callbacks: list[Callable[[list[Any]], Any] | None], source: Source) -> Any:
    """The LALR loop: shift tokens, reduce with the builders, stop at the end state."""
    actions = parse_table.actions
    gotos = parse_table.gotos
    rules = parse_table.rules
    chains = parse_table.chains
    states = [parse_table.start]
    values: list[Any] = []
    push_state = states.append
    push_value = values.append
    limit = MAX_STACK_DEPTH
    for token in tokens:
        ttype = token[0]
        while True:
            top = states[-1]
            action = actions[top].get(ttype)
            if action is None:
                if ttype == "$END" and top == parse_table.end:
                    return values[-1]
                raise _error(parse_table, source, token, states, values)
            if action >= 0:
                push_state(action)
                push_value(token)
                if len(states) > limit:
                    raise _too_deep(source, token)
                break
            rule = ~action
            build = callbacks[rule]
            if build is None:
                # A pass-through: follow the whole chain at once.
                key = (states[-2], top, ttype)
                target = chains.get(key)
                if target is None:
                    target = _follow_chain(parse_table, callbacks, states[-2], top, ttype)
                    chains[key] = target
                states[-1] = target
                continue
            origin, size = rules[rule]
            if size == 1:  # (most reductions) replace the top in place
                values[-1] = build([values[-1]])
                states[-1] = gotos[states[-2]][origin]
            elif size:
                children = values[-size:]
                del values[-size:]
                del states[-size:]
                push_value(build(children))
                push_state(gotos[states[-1]][origin])
            else:
                push_value(build([]))
                push_state(gotos[top][origin])
    raise AssertionError("the token stream ended without $END")


def _follow_chain(parse_table: ParseTable, callbacks: list[Any], below: int, top: int,
                  ttype: str) -> int:
    """The state reached from `top` (just above `below`) by the pass-through reductions
    the lookahead `ttype` calls for."""
    actions = parse_table.actions
    gotos = parse_table.gotos
    rules = parse_table.rules
    state = top
    while True:
        action = actions[state].get(ttype)
        if action is None or action >= 0 or callbacks[~action] is not None:
            return state
        state = gotos[below][rules[~action][0]]


def _error(parse_table: ParseTable, source: Source, token: Token, states: list[int],
           values: list[Any]) -> ParseError:
    expected = expected_after_reductions(parse_table.actions, parse_table.gotos,
                                         parse_table.rules, states, parse_table.end)
    return syntax_error(source, token, expected, values)


def _too_deep(source: Source, token: Token) -> ParseError:
    return ParseError("expression nested too deeply", source.span(token[2], token[3]),
                      code="E-parse-too-deep")
