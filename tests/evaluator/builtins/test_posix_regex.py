"""The POSIX ERE dialect of Nix 2.8's `match` / `split` (libstdc++'s), case by case.

Every expectation below was printed by `nix-instantiate --eval` (Nix 2.8); the
differential fuzzing that found the corners lives in the oracle corpus and
tests/oracle/builtins/."""

from __future__ import annotations

import pytest

from ndx.evaluator.posix_regex import RegexError, compile_regex


def match(pattern: str, subject: str) -> list[str | None] | None:
    return compile_regex(pattern).match(subject)


def split(pattern: str, subject: str) -> list:
    return compile_regex(pattern).split(subject) or [subject]


@pytest.mark.parametrize("pattern, subject, expected", [
    ("abc", "abc", []),
    ("ab", "abc", None),
    ("a(b)?c", "ac", [None]),
    ("(a|b)*", "abab", ["b"]),
    ("((a)b)+", "abab", ["ab", "a"]),
    ("[[:space:]]*([^[:space:]]+)[[:space:]]*", "  word\n", ["word"]),
    ("[[:ALPHA:]]+", "ab", []),
    ("[[=a=]]+", "aA", []),
    ("[[.space.]-a]+", "!a", []),
    ("[]a]+", "]a]", []),
    ("[^]a]", "]", None),
    ("[\\n]+", "n\\", []),
    ("a.b", "a\nb", []),
    ("a$", "a\n", None),
    ("a**", "aaa", []),
    ("a*?", "aa", []),
    ("(a*)+", "aa", [""]),
    ("(a|ab)(c|bcd)(d*)", "abcd", ["a", "bcd", ""]),
    ("(((^|[ab])|^[^a])|((b{0,}|.){0,1}|($))){0,}", "c",
     ["", "c", "", "", "", None]),
    ("(a){0}", "", [None]),
    ("\\(x\\)", "(x)", []),
    ("a}", "a}", []),
])
def test_match_agrees_with_nix(pattern: str, subject: str, expected: object) -> None:
    assert match(pattern, subject) == expected


@pytest.mark.parametrize("pattern, subject, expected", [
    ("(a|ab)", "xabc", ["x", ["ab"], "c"]),
    ("a|ab|abc", "xabcx", ["x", [], "x"]),
    ("a?(ab)?", "ab", ["", [None], "", [None], "b", [None], ""]),
    ("(a|b)*c|(a|ab)*c", "abc", ["", ["b", None], ""]),
    ("(.)|(..)", "xy", ["", [None, "xy"], ""]),
    ("x*", "abc", ["", [], "a", [], "b", [], "c", [], ""]),
    ("(a*)", "bab", ["", [""], "b", ["a"], "", [""], "b", [""], ""]),
    ("^a", "aaa", ["", [], "aa"]),
    ("$", "ab", ["ab", [], ""]),
    (",", "abc", ["abc"]),
])
def test_split_agrees_with_nix(pattern: str, subject: str, expected: list) -> None:
    assert split(pattern, subject) == expected


def test_bytes_not_characters() -> None:
    first, rest = match("(.)(.*)", "é")  # type: ignore[misc]
    assert first.encode("utf-8", "surrogateescape") == b"\xc3"
    assert rest.encode("utf-8", "surrogateescape") == b"\xa9"
    assert match("...", "é") is None
    assert len(split("", "é")) == 7
    assert split("é", "aébéc") == ["a", [], "b", [], "c"]


@pytest.mark.parametrize("pattern", [
    "\\d", "\\1", "\\]", "\\}", "a\\", "(a)\\1", "[[:foo:]]", "[[:alpha:]", "[z-a]",
    "[a-c-e]", "[abc", "[]", "[[.-.]]", "[[.ab.]]", "a{,2}", "a{1", "a{3,1}", "{1}",
    "*a", "^*", "(a", "a)", "x|*", "(*)", "$*", "a{1,2,3}", "a{x}", "[a--]",
    "[[:alpha:]-z]", "[a-[.c.]]",
])
def test_invalid_like_nix(pattern: str) -> None:
    with pytest.raises(RegexError):
        compile_regex(pattern)


@pytest.mark.parametrize("pattern, valid", [
    ("a{99993}", True), ("a{99994}", False), ("(a){24997}", True), ("(a){24998}", False),
    ("a{1,49997}", True), ("a{1,49998}", False), ("a{99992,}", True),
    ("a{99993,}", False), ("x|a{99989}", True), ("x|a{99990}", False),
])
def test_state_limit_counted_like_libstdcxx(pattern: str, valid: bool) -> None:
    if valid:
        compile_regex(pattern)
    else:
        with pytest.raises(RegexError) as info:
            compile_regex(pattern)
        assert info.value.too_big


def test_long_subjects_do_not_recurse() -> None:
    subject = "ab" * 50_000
    assert len(split("(a|ab)", subject)) == 100_001
    assert match("(a|b)*", subject) == ["b"]
