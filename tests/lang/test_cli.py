"""`ndx parse`: the AST of a file or an expression, and compiler-style errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ndx.cli import commands  # noqa: F401 - registers the subcommands
from ndx.cli.main import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_parse_expression_prints_the_ast() -> None:
    code, out, _ = run("parse", "-E", "1 + 2")
    assert code == 0
    assert out == "BinOp(op=+, left=Int(1), right=Int(2))\n"


def test_parse_expression_starting_with_a_dash() -> None:
    code, out, _ = run("parse", "-E", "-1")
    assert code == 0
    assert out == "Negate(Int(1))\n"


def test_parse_file_as_json(tmp_path: Path) -> None:
    source = tmp_path / "x.ndx"
    source.write_text("{ a = ./b; }\n")
    code, out, _ = run("parse", "--json", str(source))
    assert code == 0
    tree = json.loads(out)
    assert tree["type"] == "AttrSet"
    binding = tree["bindings"]["attrs"][0]
    assert binding["name"] == "a" and binding["kind"] == "plain"
    assert binding["value"] == {"type": "Path", "span": [1, 7, 1, 10],
                                "value": str(tmp_path / "b")}


def test_syntax_error_is_reported_like_a_compiler(tmp_path: Path) -> None:
    source = tmp_path / "redis.ndx"
    source.write_text("{\n  port = 6379 }\n")
    code, out, err = run("parse", str(source))
    assert code == 1 and out == ""
    assert err == (f"{source}:2:15: error: unexpected '}}', expected ';'\n"
                   "   2 |   port = 6379 }\n"
                   "     |               ^\n")
    assert "Traceback" not in err


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    code, _, err = run("parse", str(tmp_path / "missing.ndx"))
    assert code == 1
    assert "cannot read" in err and "Traceback" not in err


def test_file_or_expression_is_required() -> None:
    code, _, err = run("parse")
    assert code == 2 and "give either FILE or -E EXPR" in err
    code, _, err = run("parse", "x.ndx", "-E", "1")
    assert code == 2


def test_deep_input_prints_or_fails_cleanly() -> None:
    code, out, _ = run("parse", "-E", "[" * 4000 + "]" * 4000)
    assert code == 0 and out.count("List(") == 4000
    code, out, _ = run("parse", "--json", "-E", "[" * 4000 + "]" * 4000)
    assert code == 0 and out.count('"List"') == 4000


def test_a_damaged_table_cache_is_recomputed(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from ndx.lang import parser

    monkeypatch.setenv("NDX_CACHE_DIR", str(tmp_path))
    fresh = parser.load_table()
    (cached,) = tmp_path.glob("parse-table-*.json")
    for damage in ["{", '{"format": 2}', "[]", '{"format": 2, "actions": 1}']:
        cached.write_text(damage)
        again = parser.load_table()
        assert len(again.actions) == len(fresh.actions)
        assert len(json.loads(cached.read_text())["actions"]) == len(fresh.actions)
