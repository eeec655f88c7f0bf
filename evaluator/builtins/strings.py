"""String builtins: `substring stringLength replaceStrings concatStringsSep split match
splitVersion compareVersions parseDrvName hashString baseNameOf dirOf`.

Nix strings are byte strings: lengths and offsets count UTF-8 bytes, and a substring may
cut a character in two (the halves are kept as surrogate escapes, see `to_bytes`).
String context (the store paths a string refers to) flows through every builtin that
returns part of its input, as in Nix: `substring`, `replaceStrings`, `concatStringsSep`,
`baseNameOf`, `dirOf`; `match`, `split` and `hashString` return plain strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ..coerce import (
    coerce_to_string,
    expect_int,
    expect_list,
    expect_string,
    expect_string_no_context,
)
from ..context import EvalContext
from ..errors import EvalError
from ..hashes import HashError, hash_bytes
from ..posix_regex import RegexError, compile_regex
from ..values import ContextString, PathValue, Thunk, join_text, make_string, mend_text
from ..versions import compare_versions, parse_drv_name, split_version
from .registry import builtin

_SURROGATE = re.compile("[\udc80-\udcff]")


def to_bytes(text: str) -> bytes:
    """The bytes of an ndx string (surrogate escapes stand for bytes that are not UTF-8)."""
    return text.encode("utf-8", "surrogateescape")


def from_bytes(data: bytes) -> str:
    """An ndx string for arbitrary bytes."""
    return data.decode("utf-8", "surrogateescape")


def byte_length(text: str) -> int:
    """`stringLength`: the number of bytes."""
    return len(text) if text.isascii() else len(to_bytes(text))


def _text_and_context(value: Any) -> tuple[str, frozenset[str]]:
    if type(value) is str:
        return value, frozenset()
    return value.text, value.context


def _wrap_int32(n: int) -> int:
    """A 64-bit integer converted to a C `int` (Nix 2.8's `substring` arguments)."""
    n &= 0xFFFFFFFF
    return n - (1 << 32) if n >= (1 << 31) else n


@builtin("stringLength", 1, context=True)
def string_length(ctx: EvalContext, s: Any) -> int:
    """Return the length of a string in bytes (UTF-8): `stringLength "é"` is 2."""
    if type(s) is Thunk:
        s = s.force()
    if type(s) is str:
        return byte_length(s)
    value = coerce_to_string(s, ctx, what="the argument of 'stringLength'")
    return byte_length(_text_and_context(value)[0])


@builtin("substring", 3, context=True)
def substring(ctx: EvalContext, start: Any, length: Any, s: Any) -> Any:
    """Return the part of a string starting at byte `start`, `length` bytes long (to the
    end when the string is shorter or `length` is negative); keeps the context."""
    first = _wrap_int32(expect_int(start, "the first argument of 'substring'"))
    count = _wrap_int32(expect_int(length, "the second argument of 'substring'"))
    value = coerce_to_string(s, ctx, what="the third argument of 'substring'")
    text, context = _text_and_context(value)
    if first < 0:
        raise EvalError("negative start position in 'substring'")
    if text.isascii():
        part = text[first:] if count < 0 else text[first:first + count]
    else:
        data = to_bytes(text)
        part = from_bytes(data[first:] if count < 0 else data[first:first + count])
    return make_string(part, context)


class _Plan:
    """What `replaceStrings` needs to know about a `from` list, computed once per list:
    the patterns that can match (those after an empty one never do), an alternation
    trying them in order, each pattern's first index, and the empty pattern's index."""

    __slots__ = ("patterns", "regex", "first_index", "empty")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        empty = next((i for i, p in enumerate(patterns) if not p), None)
        self.empty = empty
        self.patterns = patterns if empty is None else patterns[:empty]
        self.first_index: dict[str, int] = {}
        for i, p in enumerate(self.patterns):
            self.first_index.setdefault(p, i)
        self.regex = (re.compile("|".join(map(re.escape, self.patterns)), re.DOTALL)
                      if self.patterns else None)


@lru_cache(maxsize=1024)
def _plan(patterns: tuple[str, ...]) -> _Plan:
    return _Plan(patterns)


def _replace(text: str, plan: _Plan, replacements: list[str]) -> tuple[str, set[int]]:
    """Nix's scan: at each position the first pattern (in list order) that matches is
    replaced and skipped; an empty pattern matches everywhere, its replacement going
    before each character and at the end. Returns the text and the replacements used."""
    used: set[int] = set()
    patterns = plan.patterns
    if plan.empty is None:
        if len(patterns) == 1:
            if patterns[0] in text:
                used.add(0)
                return text.replace(patterns[0], replacements[0]), used
            return text, used
        first_index = plan.first_index

        def substitute(m: re.Match[str]) -> str:
            index = first_index[m.group()]
            used.add(index)
            return replacements[index]

        return plan.regex.sub(substitute, text), used  # type: ignore[union-attr]
    out: list[str] = []
    position = 0
    filler = replacements[plan.empty]
    if plan.regex is not None:
        for m in plan.regex.finditer(text):
            start = m.start()
            if start > position:
                out.append(filler + filler.join(text[position:start]))
            index = plan.first_index[m.group()]
            used.add(index)
            out.append(replacements[index])
            position = m.end()
    if position < len(text):
        out.append(filler + filler.join(text[position:]))
    out.append(filler)
    used.add(plan.empty)
    return "".join(out), used


def _string_items(items: list[Any], what: str) -> list[Any]:
    """The string values of a list's elements (forced; a type error otherwise)."""
    out = []
    for item in items:
        if type(item) is Thunk:
            item = item.force()
        if type(item) is not str and type(item) is not ContextString:
            item = expect_string(item, what)
        out.append(item)
    return out


@lru_cache(maxsize=1024)
def _plain_replacer(patterns: tuple[str, ...],
                    replacements: tuple[str, ...]) -> Callable[[str], str]:
    """`text -> result` for patterns without an empty one and replacements without
    context (the common case), built once per pair of lists."""
    if len(patterns) == 1:
        pattern, replacement = patterns[0], replacements[0]
        return lambda text: text.replace(pattern, replacement)
    chained = _chained_replacer(patterns, replacements)
    if chained is not None:
        return chained
    plan = _plan(patterns)
    table = {p: replacements[i] for p, i in plan.first_index.items()}
    regex = plan.regex
    assert regex is not None

    def replace(text: str) -> str:
        return regex.sub(lambda m: table[m.group()], text)

    return replace


def _chained_replacer(patterns: tuple[str, ...],
                      replacements: tuple[str, ...]) -> Callable[[str], str] | None:
    """`text -> result` as one `str.replace` per pattern, when that is exactly the
    left-to-right scan: no two patterns share a character (so their matches never
    overlap and none is found inside another), no replacement holds a pattern's
    character (so a replacement never forms a match), and at most one replacement is
    empty, applied last (a deletion joins the text around it, which could form a
    match of a pattern replaced after it). Otherwise None."""
    used: set[str] = set()
    for pattern in patterns:
        chars = set(pattern)
        if used & chars:
            return None
        used |= chars
    if any(used.intersection(r) for r in replacements):
        return None
    steps = sorted(zip(patterns, replacements, strict=True), key=lambda step: step[1] == "")
    if len(steps) > 1 and steps[-2][1] == "":
        return None

    def replace(text: str) -> str:
        for pattern, replacement in steps:
            text = text.replace(pattern, replacement)
        return text

    return replace


@builtin("replaceStrings", 3)
def replace_strings(from_: Any, to: Any, s: Any) -> Any:
    """Replace every occurrence of each string in `from` by the string at the same
    position in `to`, scanning left to right and never rescanning replacements:
    `replaceStrings [ "a" "b" ] [ "b" "a" ] "ab"` is "ba"."""
    patterns_in = from_ if type(from_) is list else \
        expect_list(from_, "the first argument of 'replaceStrings'")
    replacements_in = to if type(to) is list else \
        expect_list(to, "the second argument of 'replaceStrings'")
    if len(patterns_in) != len(replacements_in):
        raise EvalError("'from' and 'to' arguments to 'replaceStrings' have different "
                        "lengths")
    patterns = tuple(patterns_in)
    for p in patterns:
        if type(p) is not str:
            patterns = tuple(p if type(p) is str else p.text for p in _string_items(
                patterns_in, "an element of the first argument of 'replaceStrings'"))
            break
    replacement_values = replacements_in
    plain_replacements = True
    for r in replacement_values:
        if type(r) is not str:
            replacement_values = _string_items(replacements_in, "an element of the second "
                                                                "argument of 'replaceStrings'")
            plain_replacements = all(type(v) is str for v in replacement_values)
            break
    subject = s.force() if type(s) is Thunk else s
    if type(subject) is str:
        text = subject
        context: frozenset[str] = frozenset()
    else:
        if type(subject) is not ContextString:
            subject = expect_string(subject, "the third argument of 'replaceStrings'")
        text, context = _text_and_context(subject)
    if not patterns:
        return subject
    plain = text.isascii() or not ("" in patterns or _SURROGATE.search(text) is not None
                                   or any(_SURROGATE.search(p) for p in patterns))
    if plain and plain_replacements and "" not in patterns:
        result = _plain_replacer(patterns, tuple(replacement_values))(text)
        if result == text:
            return subject
        return make_string(mend_text(result), context)
    replacements = [r if type(r) is str else r.text for r in replacement_values]
    if plain:
        result, used = _replace(text, _plan(patterns), replacements)
    else:
        latin = tuple(to_bytes(p).decode("latin-1") for p in patterns)
        fill = [to_bytes(r).decode("latin-1") for r in replacements]
        result, used = _replace(to_bytes(text).decode("latin-1"), _plan(latin), fill)
        result = from_bytes(result.encode("latin-1"))
    for index in used:
        extra = replacement_values[index]
        if type(extra) is ContextString:
            context = context | extra.context
    return make_string(result, context)


@builtin("concatStringsSep", 2, context=True)
def concat_strings_sep(ctx: EvalContext, sep: Any, xs: Any) -> Any:
    """Join the strings of a list (elements are coerced like `"${x}"`) with a separator:
    `concatStringsSep "," [ "a" "b" ]` is "a,b"."""
    separator = expect_string(sep, "the first argument of 'concatStringsSep'")
    items = expect_list(xs, "the second argument of 'concatStringsSep'")
    sep_text, context = _text_and_context(separator)
    parts: list[str] = []
    contexts: list[frozenset[str]] = [context] if context else []
    for item in items:
        if type(item) is Thunk:
            item = item.force()
        if type(item) is str:
            parts.append(item)
            continue
        value: Any = coerce_to_string(item, ctx, what="an element of the list passed to "
                                                      "'concatStringsSep'")
        if type(value) is str:
            parts.append(value)
        else:
            parts.append(value.text)
            contexts.append(value.context)
    text = join_text(parts, sep_text)
    if not contexts:
        return text
    return make_string(text, frozenset().union(*contexts))


def _regex(pattern: Any, name: str) -> Any:
    text = expect_string_no_context(pattern, f"the first argument of '{name}'")
    try:
        return compile_regex(text)
    except RegexError as error:
        if error.too_big:
            raise EvalError(f"memory limit exceeded by regular expression '{text}'") \
                from None
        raise EvalError(f"invalid regular expression '{text}'") from None


@builtin("match", 2)
def match(regex: Any, s: Any) -> list[Any] | None:
    """Match a POSIX extended regular expression against the whole string; return the
    list of its groups (null for unmatched ones), or null when it does not match:
    `match "(a)(b)?c" "ac"` is `[ "a" null ]`."""
    compiled = _regex(regex, "match")
    subject = expect_string(s, "the second argument of 'match'")
    return compiled.match(_text_and_context(subject)[0])  # type: ignore[no-any-return]


@builtin("split", 2)
def split(regex: Any, s: Any) -> Any:
    """Split a string at the matches of a POSIX extended regular expression, keeping each
    match's groups as a list: `split "(,)" "a,b"` is `[ "a" [ "," ] "b" ]`."""
    compiled = _regex(regex, "split")
    subject = expect_string(s, "the second argument of 'split'")
    result = compiled.split(_text_and_context(subject)[0])
    return [subject] if result is None else result


@builtin("splitVersion", 1)
def split_version_(v: Any) -> list[str]:
    """Split a version into its components: "1.2.3pre4" → [ "1" "2" "3" "pre" "4" ]."""
    return split_version(expect_string_no_context(v, "the argument of 'splitVersion'"))


@builtin("compareVersions", 2)
def compare_versions_(a: Any, b: Any) -> int:
    """Compare two versions as Nix does: -1, 0 or 1 (`"1.0pre1"` is older than
    `"1.0"`, `"2.3a"` older than `"2.3.1"`)."""
    first = expect_string_no_context(a, "the first argument of 'compareVersions'")
    second = expect_string_no_context(b, "the second argument of 'compareVersions'")
    return compare_versions(first, second)


@builtin("parseDrvName", 1)
def parse_drv_name_(s: Any) -> dict[str, str]:
    """Split a package name into `{ name; version; }` at the first dash followed by a
    non-letter: "nix-0.12pre12876" → name "nix", version "0.12pre12876"."""
    name, version = parse_drv_name(expect_string_no_context(s, "the argument of "
                                                               "'parseDrvName'"))
    return {"name": name, "version": version}


@builtin("hashString", 2)
def hash_string(algo: Any, s: Any) -> str:
    """Return the base-16 hash of a string's bytes; `algo` is "md5", "sha1", "sha256" or
    "sha512"."""
    name = expect_string_no_context(algo, "the first argument of 'hashString'")
    text = _text_and_context(expect_string(s, "the second argument of 'hashString'"))[0]
    try:
        return hash_bytes(name, to_bytes(text)).hex()
    except HashError as error:
        raise EvalError(str(error)) from None


def base_name(path: str) -> str:
    """Nix's `baseNameOf` on text: the last component, ignoring one trailing slash."""
    if not path:
        return ""
    last = len(path) - 1
    if path[last] == "/" and last > 0:
        last -= 1
    pos = path.rfind("/", 0, last + 1)
    return path[pos + 1:last + 1]


def dir_name(path: str) -> str:
    """Nix's `dirOf` on text: everything before the last slash ("." without one)."""
    pos = path.rfind("/")
    if pos < 0:
        return "."
    return "/" if pos == 0 else path[:pos]


@builtin("baseNameOf", 1, global_=True, context=True)
def base_name_of(ctx: EvalContext, s: Any) -> Any:
    """Return the last component of a path or string: `baseNameOf "/a/b/"` is "b"."""
    value = coerce_to_string(s, ctx, what="the argument of 'baseNameOf'",
                             copy_to_store=False)
    text, context = _text_and_context(value)
    return make_string(base_name(text), context)


@builtin("dirOf", 1, global_=True, context=True)
def dir_of(ctx: EvalContext, s: Any) -> Any:
    """Return the directory part of a path or string: `dirOf /a/b` is `/a`, and a string
    gives a string ("." when it has no slash)."""
    if type(s) is Thunk:
        s = s.force()
    value = coerce_to_string(s, ctx, what="the argument of 'dirOf'", copy_to_store=False)
    text, context = _text_and_context(value)
    parent = dir_name(text)
    if type(s) is PathValue:
        return PathValue(parent)
    return make_string(parent, context)

