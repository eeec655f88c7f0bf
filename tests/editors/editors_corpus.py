"""The shared corpus of the editor-grammar tests, and the expectations written into it.

Every `tests/editors/corpus/*.ndx` file is valid Nix (a test checks it with
`nix-instantiate --parse`) and carries its expectations as marker comments under the
line they describe, in the style of tree-sitter's highlight tests:

    nested = "a ${ toString b }";
  #             ^^ interpolation
  #                ^ builtin !string
  # <- attribute

A `^` points at its own column of the nearest line above that is not a marker (several
carets check several columns); `<-` points at the column of the marker's `#`. The words
after it are categories that must hold there, or, with `!`, must not. A marker inside a
string or comment is still a marker: only the text of the corpus is read here.

A category names one meaning (a builtin, a path, …) and what each highlighter calls it:
a TextMate scope prefix, Vim syntax groups, a Pygments token type. `!category` is
checked the same way, negated.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
GRAMMAR_DIR = REPO / "grammar"

SENTINEL = "# ndx-editors-sentinel: every region is closed here"
"""Appended to each file a highlighter reads: it must come out as a top-level comment."""


@dataclass(frozen=True)
class Category:
    """What the three highlighters call one meaning."""

    textmate: str
    """A scope prefix (whole dot-separated components), e.g. `string.quoted.double`."""
    vim: tuple[str, ...]
    """Syntax group names, any of which will do."""
    pygments: str
    """A Pygments token type, e.g. `Literal.String.Double`; matched exactly."""


CATEGORIES: dict[str, Category] = {
    "comment": Category("comment.line.number-sign", ("ndxComment",), "Comment.Single"),
    "block-comment": Category("comment.block", ("ndxCommentBlock",), "Comment.Multiline"),
    "string": Category("string.quoted.double", ("ndxString",), "Literal.String.Double"),
    "indented-string": Category("string.quoted.other.indented", ("ndxIndString",),
                                "Literal.String.Heredoc"),
    "escape": Category("constant.character.escape", ("ndxEscape", "ndxIndEscape"),
                       "Literal.String.Escape"),
    "interpolation": Category("punctuation.section.embedded", ("ndxInterpolationDelim",),
                              "Literal.String.Interpol"),
    "path": Category("string.unquoted.path", ("ndxPath", "ndxInterpolatedPath", "ndxPathText"),
                     "Literal.String.Path"),
    "uri": Category("string.unquoted.uri", ("ndxUri",), "Literal.String.Uri"),
    "integer": Category("constant.numeric.integer", ("ndxInteger",), "Literal.Number.Integer"),
    "float": Category("constant.numeric.float", ("ndxFloat",), "Literal.Number.Float"),
    "constant": Category("constant.language", ("ndxConstant",), "Keyword.Constant"),
    "keyword": Category("keyword.control", ("ndxKeyword",), "Keyword"),
    "keyword-other": Category("keyword.other", ("ndxKeywordOther",), "Keyword.Declaration"),
    "or": Category("keyword.operator.or", ("ndxOr",), "Operator.Word"),
    "operator": Category("keyword.operator", ("ndxOperator", "ndxAssign"), "Operator"),
    "attribute": Category("entity.other.attribute-name", ("ndxAttribute",), "Name.Attribute"),
    "parameter": Category("variable.parameter", ("ndxParam", "ndxFormal"), "Name.Variable"),
    "builtin": Category("support.function.builtin", ("ndxBuiltin", "ndxBuiltinName"),
                        "Name.Builtin"),
    "variable": Category("variable.other", ("ndxIdentifier",), "Name"),
}


@dataclass(frozen=True)
class Expectation:
    """One category that must (or must not) hold at one character of a corpus file."""

    path: Path
    line: int
    """0-based line of the file."""
    column: int
    """0-based column, in characters (code points)."""
    category: str
    negated: bool
    marker_line: int
    """1-based line of the marker, for messages."""

    def describe(self) -> str:
        should = "not " if self.negated else ""
        return (f"{self.path.name}:{self.line + 1}:{self.column + 1} (marker on line "
                f"{self.marker_line}) should {should}be {self.category}")


MARKER = re.compile(r"^(?P<lead>\s*)#(?P<gap>\s*)(?P<pointer>\^+|<-)\s+(?P<words>\S.*?)\s*$")


def parse_expectations(path: Path) -> list[Expectation]:
    """The expectations written as marker comments in `path`."""
    lines = path.read_text(encoding="utf-8").split("\n")
    expectations: list[Expectation] = []
    target: int | None = None
    for number, text in enumerate(lines):
        marker = MARKER.match(text)
        if not marker:
            target = number
            continue
        if target is None:
            raise ValueError(f"{path.name}:{number + 1}: a marker with no line above it")
        pointer = marker["pointer"]
        if pointer == "<-":
            columns = [len(marker["lead"])]
        else:
            start = marker.start("pointer")
            columns = list(range(start, start + len(pointer)))
        for column in columns:
            if column >= len(lines[target]):
                raise ValueError(f"{path.name}:{number + 1}: the marker points past the end "
                                 f"of line {target + 1}")
        for word in marker["words"].split():
            name = word.removeprefix("!")
            if name not in CATEGORIES:
                raise ValueError(f"{path.name}:{number + 1}: unknown category {name!r} "
                                 f"(known: {', '.join(CATEGORIES)})")
            expectations.extend(
                Expectation(path, target, column, name, word.startswith("!"), number + 1)
                for column in columns)
    return expectations


def failed_expectations(expectations: list[Expectation],
                        observe: Callable[[Expectation], tuple[bool, str]]) -> list[str]:
    """The expectations that do not hold, each with what the highlighter saw there.

    `observe` tells whether the expectation's category holds at its position, and
    what was there (scopes, groups, a token type).
    """
    failures = []
    for expectation in expectations:
        holds, seen = observe(expectation)
        if holds == expectation.negated:
            failures.append(f"{expectation.describe()}; saw {seen}")
    return failures


def corpus_files() -> list[Path]:
    """The tricky corpus every highlighter is tested on."""
    return sorted(CORPUS_DIR.glob("*.ndx"))


PROGRAM_FOLDERS = ("examples", "stdlib", "evaluator")
"""Where the repository keeps ndx programs: the examples and the library written in ndx."""


@cache
def real_programs() -> list[Path]:
    """The ndx programs of the repository that Nix parses.

    A program written to show an error (a syntax error on purpose) is left out: the
    highlighters must stay balanced on valid programs, and Nix decides which are.
    """
    found = [path for folder in PROGRAM_FOLDERS for path in sorted((REPO / folder).rglob("*.ndx"))]
    return [path for path in found if nix_parses(path)]


def nix_parses(path: Path) -> bool:
    """Whether `nix-instantiate --parse` (the oracle) accepts the file."""
    completed = subprocess.run(["nix-instantiate", "--parse", str(path)],
                               capture_output=True, text=True, check=False)
    return completed.returncode == 0


def with_sentinel(text: str) -> str:
    """`text` with the sentinel comment on a last line of its own."""
    return text + ("" if text.endswith("\n") else "\n") + SENTINEL + "\n"
