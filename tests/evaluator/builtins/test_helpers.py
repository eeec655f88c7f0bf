"""The pure helpers behind the builtins: version comparison and libstdc++'s stable sort.
Expected values were printed by Nix 2.8."""

from __future__ import annotations

import random

import pytest

from ndx.evaluator.stable_sort import stable_sort
from ndx.evaluator.versions import compare_versions, parse_drv_name, split_version


@pytest.mark.parametrize("version, parts", [
    ("1.2.3pre4-x_y", ["1", "2", "3", "pre", "4", "x_y"]),
    ("1-2_3.4", ["1", "2", "_", "3", "4"]),
    ("2.0alpha-rc1", ["2", "0", "alpha", "rc", "1"]),
    (".1.", ["1"]),
    ("--", []),
    ("", []),
])
def test_split_version(version: str, parts: list[str]) -> None:
    assert split_version(version) == parts


@pytest.mark.parametrize("a, b, result", [
    ("1.0", "2.3", -1), ("2.3", "2.3", 0), ("2.3.1", "2.3", 1),
    ("1.0pre", "1.0", -1), ("2.3pre3", "2.3pre12", -1), ("2.3a", "2.3.1", -1),
    ("2.3pre1", "2.3q", -1), ("1.a", "1.1", -1), ("1.01", "1.1", 0), ("", "0", -1),
    # Components that overflow a C int compare as words.
    ("1.100000000000000000000", "1.99999999999999999999", -1),
    ("1-2", "1.2", 0), ("1.2", "12", -1),
])
def test_compare_versions(a: str, b: str, result: int) -> None:
    assert compare_versions(a, b) == result
    assert compare_versions(b, a) == -result


@pytest.mark.parametrize("name, split", [
    ("nix-0.12pre12876", ("nix", "0.12pre12876")),
    ("foo-bar-1.0-rc1", ("foo-bar", "1.0-rc1")),
    ("a-b-c", ("a-b-c", "")),
    ("x--1", ("x", "-1")),
    ("-1.0", ("", "1.0")),
])
def test_parse_drv_name(name: str, split: tuple[str, str]) -> None:
    assert parse_drv_name(name) == split


def test_stable_sort_agrees_with_sorted_for_strict_orders() -> None:
    rng = random.Random(7)
    for _ in range(300):
        items = [(rng.randint(0, 9), i) for i in range(rng.randint(0, 200))]
        expected = sorted(items, key=lambda x: x[0])
        assert stable_sort(items, lambda a, b: a[0] < b[0]) == expected


def test_stable_sort_reproduces_nix_for_non_strict_comparators() -> None:
    # `sort (a: b: a.k <= b.k)`: Nix's answers depend on libstdc++'s exact algorithm.
    short = [(1, 1), (1, 2), (0, 3), (1, 4)]
    assert [n for _, n in stable_sort(short, lambda a, b: a[0] <= b[0])] == [3, 4, 2, 1]
    items = [((i * 5) & 3, i) for i in range(37)]
    assert [n for _, n in stable_sort(items, lambda a, b: a[0] <= b[0])] == [
        36, 32, 28, 24, 20, 16, 12, 8, 4, 0, 33, 29, 25, 21, 17, 13, 9, 5, 1, 34, 30, 26,
        22, 18, 14, 10, 6, 2, 35, 31, 27, 23, 19, 15, 11, 7, 3]
    inconsistent = [(i * 7919) & 63 for i in range(30)]
    assert stable_sort(inconsistent, lambda a, b: ((a * 3 + b) & 1) == 0) == [
        18, 26, 60, 30, 0, 19, 27, 61, 31, 1, 35, 5, 39, 9, 43, 13, 47, 36, 6, 40, 10, 44,
        14, 48, 52, 22, 56, 53, 23, 57]


def test_stable_sort_leaves_input_alone_when_the_comparator_fails() -> None:
    items = [3, 1, 2]

    def boom(a: int, b: int) -> bool:
        raise ValueError("comparator failed")

    with pytest.raises(ValueError):
        stable_sort(items, boom)
    assert items == [3, 1, 2]
