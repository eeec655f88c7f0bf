"""The editor grammars' shared word lists, read from `vocabulary.json`.

Keywords, builtins, constants and operators are listed once, in `vocabulary.json`;
`generate.py` writes them into the TextMate and Vim grammars and the Pygments lexer
reads them here, so the three highlighters never disagree about a word.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The words of the language, grouped the way the highlighters colour them."""

    control_keywords: tuple[str, ...]
    """`if then else assert with let in`: control flow and scoping."""
    other_keywords: tuple[str, ...]
    """`rec inherit`: keywords that shape an attribute set."""
    operator_keywords: tuple[str, ...]
    """`or`: a keyword in `a.b or c`, yet also a valid attribute name."""
    constants: tuple[str, ...]
    """`true false null`."""
    builtins: tuple[str, ...]
    """Every attribute of `builtins` (Nix 2.8's `builtins.attrNames builtins`)."""
    globals: tuple[str, ...]
    """The builtins that are also bound without the `builtins.` prefix."""
    specials: tuple[str, ...]
    """Names the parser treats specially (`__curPos`)."""
    operators: dict[str, tuple[str, ...]]
    """Operator tokens by kind (`comparison`, `logical`, …), the kind naming the scope."""

    def global_functions(self) -> tuple[str, ...]:
        """Every builtin a program can name without `builtins.`, as it would write it.

        The globals (minus the constants, coloured as constants), every other builtin
        under its `__name` alias, and the specials.
        """
        bare = [name for name in self.globals if name not in self.constants]
        aliased = ["__" + name for name in self.builtins if name not in self.globals]
        return tuple(sorted({*bare, *aliased, *self.specials}))

    def builtin_functions(self) -> tuple[str, ...]:
        """The builtins worth colouring after `builtins.` (all but the constants)."""
        return tuple(name for name in self.builtins if name not in self.constants)

    def all_operators(self) -> tuple[str, ...]:
        """Every operator token, longest first so an alternation prefers `//` to `/`."""
        return longest_first(token for tokens in self.operators.values() for token in tokens)


def longest_first(words: Iterable[str]) -> tuple[str, ...]:
    """Sort so that no word comes after one of its prefixes (then alphabetically)."""
    return tuple(sorted(set(words), key=lambda word: (-len(word), word)))


def alternation(words: Iterable[str]) -> str:
    """A regular-expression alternation of `words` (escaped, longest first).

    The syntax is shared by Python's `re` and Oniguruma (TextMate).
    """
    return "|".join(re.escape(word) for word in longest_first(words))


@cache
def load_vocabulary() -> Vocabulary:
    """Read `vocabulary.json` from the installed `ndx.grammar` package."""
    text = resources.files(__package__ or "ndx.grammar").joinpath("vocabulary.json").read_text(
        encoding="utf-8")
    data = json.loads(text)
    keywords = data["keywords"]
    return Vocabulary(
        control_keywords=tuple(keywords["control"]),
        other_keywords=tuple(keywords["other"]),
        operator_keywords=tuple(keywords["operator"]),
        constants=tuple(data["constants"]),
        builtins=tuple(data["builtins"]),
        globals=tuple(data["globals"]),
        specials=tuple(data["specials"]),
        operators={kind: tuple(tokens) for kind, tokens in data["operators"].items()},
    )
