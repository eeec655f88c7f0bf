"""The persistent parse cache returns exactly what the parser would, and never a stale
entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndx.evaluator.compiler import parse_cache, program
from ndx.lang import parse


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("NDX_CACHE_DIR", str(cache))
    monkeypatch.setattr(program, "_PARSED", {})
    return cache


def test_round_trip_gives_an_equal_ast(tmp_path: Path, private_cache: Path) -> None:
    source = tmp_path / "f.ndx"
    text = 'let a = { b.c = [ 1 "x${y}" ./p ]; }; y = "s"; in a // { inherit y; }'
    source.write_text(text)
    expr = parse(text, str(source))
    parse_cache.store(str(source), text, expr)
    assert list(private_cache.glob("ast/*.pickle"))
    loaded = parse_cache.load(str(source), text)
    assert loaded == expr
    assert loaded is not None and loaded.span.source.text == text


def test_a_changed_text_misses(tmp_path: Path) -> None:
    source = str(tmp_path / "f.ndx")
    parse_cache.store(source, "1", parse("1", source))
    assert parse_cache.load(source, "2") is None


def test_parse_file_uses_and_fills_the_cache(tmp_path: Path, private_cache: Path) -> None:
    source = tmp_path / "f.ndx"
    source.write_text("{ a = 1; }")
    first = program.parse_file(str(source))
    assert parse_cache.load(str(source), "{ a = 1; }") == first


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     private_cache: Path) -> None:
    monkeypatch.setenv("NDX_PARSE_CACHE", "0")
    source = str(tmp_path / "f.ndx")
    parse_cache.store(source, "1", parse("1", source))
    assert not private_cache.exists()
