"""Positions and rendering of spans: the ground every error message stands on."""

from ndx.lang.diagnostics import Diagnostic, render
from ndx.lang.source import Source


def test_position_counts_lines_and_columns_from_one() -> None:
    src = Source("a.ndx", "ab\ncd\n\nx", "/")
    assert src.position(0) == (1, 1)
    assert src.position(3) == (2, 1)
    assert src.position(4) == (2, 2)
    assert src.position(7) == (4, 1)
    assert src.line_text(2) == "cd"
    assert src.line_text(3) == ""
    assert src.line_text(9) == ""


def test_render_shows_line_and_caret_under_the_span() -> None:
    text = "{\n  port = 6379 }\n"
    src = Source("redis.ndx", text, "/")
    brace = text.index("}")
    diag = Diagnostic("error", "unexpected '}', expected ';'", src.span(brace, brace + 1))
    assert render(diag) == (
        "redis.ndx:2:15: error: unexpected '}', expected ';'\n"
        "   2 |   port = 6379 }\n"
        "     |               ^"
    )


def test_spans_do_not_take_part_in_equality() -> None:
    from ndx.lang.ast import Int

    a, b = Source("a", "1  1", "/"), Source("b", "1", "/")
    assert Int(1, a.span(0, 1)) == Int(1, b.span(0, 1)) == Int(1, a.span(3, 4))
    assert Int(1, a.span(0, 1)) != Int(2, a.span(0, 1))


def test_render_cuts_an_over_long_line_to_a_window_around_the_error() -> None:
    text = "x" * 1000 + "}" + "y" * 1000
    src = Source("gen.ndx", text, "/")
    lines = render(Diagnostic("error", "unexpected '}'", src.span(1000, 1001))).splitlines()
    assert lines[0] == "gen.ndx:1:1001: error: unexpected '}'"
    excerpt, caret = lines[1], lines[2]
    assert excerpt.startswith("   1 | …x") and excerpt.endswith("y…")
    assert len(excerpt) < 140
    assert excerpt[caret.index("^")] == "}"
