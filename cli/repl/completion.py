"""Tab completion: commands, file names after `:l`, names in scope, attribute paths.

    candidates(session, "pkgs.re")   → [Candidate("pkgs.redis", -7), …]

The word before the cursor is a dotted path of names. Without a dot it completes
against the session's names, the global builtins and the keywords; with dots, the part
before the last dot is evaluated in the session (forcing only that path, as `nix repl`
does) and, if it is a set, its attribute names complete the rest. A path that fails to
evaluate completes nothing: completion never prints an error.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ndx.evaluator.printer import format_attr_name
from ndx.evaluator.session import run_deep
from ndx.evaluator.values import force
from ndx.lang.errors import NdxError

if TYPE_CHECKING:
    from .session import ReplSession

KEYWORDS = ["assert", "else", "if", "in", "inherit", "let", "or", "rec", "then", "with"]

NAME = r"[A-Za-z_][A-Za-z0-9_'-]*"
ATTR_PATH = re.compile(rf"((?:{NAME}\.)*)({NAME})?\Z")
"""`pkgs.lib.ma` at the end of the text: the path `pkgs.lib.` and the partial `ma`."""

COMMAND_WORD = re.compile(r"\s*(:[A-Za-z?]*)\Z")
LOAD_ARGUMENT = re.compile(r"\s*:l(?:oad)?\s+(\S*)\Z")


@dataclass(frozen=True)
class Candidate:
    """Replace the `-start` characters before the cursor by `text`."""

    text: str
    start: int


def candidates(session: ReplSession, before_cursor: str) -> list[Candidate]:
    """Completions for the text before the cursor (see the module docstring)."""
    from .session import ALIASES, COMMANDS

    command = COMMAND_WORD.match(before_cursor)
    if command is not None:
        word = command.group(1)
        names = sorted({name for name, _, _ in COMMANDS} | set(ALIASES))
        return [Candidate(name, -len(word)) for name in names if name.startswith(word)]
    load = LOAD_ARGUMENT.match(before_cursor)
    if load is not None:
        return _file_names(load.group(1), session.base_dir)
    match = ATTR_PATH.search(before_cursor)
    if match is None or _after_name_character(before_cursor, match.start()):
        return []
    path, partial = match.group(1), match.group(2) or ""
    word = path + partial
    if not path:
        if not partial:
            return []
        names = sorted(set(session.names_in_scope()) | set(KEYWORDS))
        return [Candidate(name, -len(word)) for name in names if name.startswith(partial)]
    attrs = _attributes_of(session, path[:-1])
    return [Candidate(path + format_attr_name(name), -len(word)) for name in sorted(attrs)
            if name.startswith(partial)]


def _after_name_character(text: str, start: int) -> bool:
    """Whether the match is the tail of something longer (`1.5`, `x.${y}.a`)."""
    return start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_'-.\"}")


def _attributes_of(session: ReplSession, path: str) -> list[str]:
    def names() -> list[str]:
        value = force(session.evaluate(path))
        return list(value) if type(value) is dict else []

    try:
        return run_deep(names)
    except (NdxError, RecursionError):
        return []


def _file_names(partial: str, base_dir: str) -> list[Candidate]:
    expanded = os.path.expanduser(partial)
    directory, prefix = os.path.split(expanded)
    where = os.path.join(base_dir, directory)
    try:
        entries = sorted(os.listdir(where))
    except OSError:
        return []
    head = partial[:len(partial) - len(prefix)]
    found: list[Candidate] = []
    for entry in entries:
        if not entry.startswith(prefix) or (entry.startswith(".") and not prefix):
            continue
        suffix = "/" if os.path.isdir(os.path.join(where, entry)) else ""
        found.append(Candidate(head + entry + suffix, -len(partial)))
    return found

