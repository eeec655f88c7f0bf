"""TOML as Nix 2.8 reads it. The expectations come from `nix-instantiate --eval`; the
cases focus on where Nix's reader (toml11) differs from the TOML specification."""

from __future__ import annotations

import math

import pytest

from ndx.evaluator.toml_reader import TomlDateError, TomlError, parse_toml


@pytest.mark.parametrize("text, value", [
    # Tables created by dotted keys may get a header later (the specification says no).
    ("a.b.c = 1\n[a.b]\nd = 2", {"a": {"b": {"c": 1, "d": 2}}}),
    ("a.b = 1\n[a]\nc = 2", {"a": {"b": 1, "c": 2}}),
    ("[a]\nx.y = 1\n[a.x]\nz = 2", {"a": {"x": {"y": 1, "z": 2}}}),
    # A sub-table header may come before its parent's.
    ("[a.b]\nx = 1\n[a]\ny = 2", {"a": {"b": {"x": 1}, "y": 2}}),
    # `[a.c]` adds to the last element of an array written inline.
    ("a = [{b = 1}]\n[a.c]", {"a": [{"b": 1, "c": {}}]}),
    ("[[a]]\nx = 1\n[[a]]\nx = 2\n[[a.b]]\ny = 3",
     {"a": [{"x": 1}, {"x": 2, "b": [{"y": 3}]}]}),
    ("a = 9223372036854775808\nb = -9223372036854775809\nc = 0xFFFFFFFFFFFFFFFF",
     {"a": (1 << 63) - 1, "b": -(1 << 63), "c": (1 << 63) - 1}),
    ('a = "x\\u0000y"', {"a": "x"}),
    ('a = """\none \\\n   two"""', {"a": "one two"}),
    ("a = '''a'''''", {"a": "a''"}),
    ("\ufeffa = 1", {"a": 1}),
])
def test_values_and_table_rules(text: str, value: object) -> None:
    assert parse_toml(text) == value


def test_floats_too_large_become_the_largest_double() -> None:
    doc = parse_toml("a = 1e400\nb = -1e400\nc = -nan\nd = inf")
    assert doc["a"] == 1.7976931348623157e308 and doc["b"] == -1.7976931348623157e308
    assert math.isnan(doc["c"]) and math.copysign(1.0, doc["c"]) < 0
    assert doc["d"] == math.inf


@pytest.mark.parametrize("text", [
    "[[a.b]]\n[a]\nc = 1",          # valid TOML that Nix rejects
    "a.b = 1\n[a]\nb = 2",
    "[a.b]\nc = 1\n[a]\nb.d = 2",
    "[a]\nb = {}\n[a.b]",
    "a = {x = 1}\na.y = 2",
    "a = [{b = 1}]\n[[a]]",
    "a = []\n[[a]]",
    "[a]\n[[a]]",
    "[[a]]\n[a]",
    "x = 1\n[x.a]",
    "a = 01", "a = 1__0", "a = .5", "a = {x = 1,}", "a = {x = 1\n}", "a = True",
    'a = "\\e"', 'a = "\\uD800"', "a = 1\rb = 2", 'a = "x\x01y"', "# \x7f\na = 1",
])
def test_rejected_like_nix(text: str) -> None:
    with pytest.raises(TomlError):
        parse_toml(text)


@pytest.mark.parametrize("text", ["a = 1979-05-27", "a = 07:32:00", "a = [1979-05-27T07:32:00Z]"])
def test_dates_are_refused(text: str) -> None:
    with pytest.raises(TomlDateError):
        parse_toml(text)


def test_results_are_plain_dicts() -> None:
    doc = parse_toml("[a]\nb = { c = [ { d = 1 } ] }")
    assert type(doc) is dict and type(doc["a"]) is dict
    assert type(doc["a"]["b"]["c"][0]) is dict
