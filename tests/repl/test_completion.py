"""Tab completion in-process: names in scope, builtins, keywords, attribute paths
(evaluating only the path), commands and file names."""

from __future__ import annotations

from pathlib import Path

from ndx.cli.repl.completion import Candidate, candidates

from .conftest import Captured


def texts(session: Captured, before_cursor: str) -> list[str]:
    return [item.text for item in candidates(session.session, before_cursor)]


def test_attribute_paths(session: Captured) -> None:
    session.run(":l pkgs.ndx")
    assert candidates(session.session, "pkgs.re") == [Candidate("pkgs.redis", -7),
                                                       Candidate("pkgs.rest", -7)]
    assert texts(session, "pkgs.") == ["pkgs.redis", "pkgs.rest", "pkgs.ruby"]
    assert texts(session, "pkgs.redis.v") == ["pkgs.redis.version"]
    assert texts(session, "map (x: x) pkgs.ru") == ["pkgs.ruby"]
    assert texts(session, "builtins.attrNa") == ["builtins.attrNames"]
    assert texts(session, "pkgs.ruby.") == []  # not a set
    assert texts(session, "pkgs.nothing.") == []  # an error completes nothing
    assert texts(session, "1.5") == []


def test_names_builtins_and_keywords(session: Captured) -> None:
    session.run("myPackage = 1")
    assert texts(session, "myP") == ["myPackage"]
    assert "map" in texts(session, "ma") and "mapAttrs" not in texts(session, "ma")
    assert texts(session, "builtins") == ["builtins"]
    assert texts(session, "inh") == ["inherit"]
    assert texts(session, "buildIm") == ["buildImage"]
    assert texts(session, "") == [] and texts(session, "x ") == []


def test_completion_forces_only_the_path(session: Captured) -> None:
    session.run('set = { a = throw "a is not forced"; ab = 1; inner = { x = 1; }; }')
    assert texts(session, "set.a") == ["set.a", "set.ab"]
    assert texts(session, "set.inner.") == ["set.inner.x"]
    session.run('broken = throw "no"')
    assert texts(session, "broken.") == []


def test_commands_and_files(session: Captured, project: Path) -> None:
    assert texts(session, ":") == [":?", ":a", ":add", ":b", ":build", ":doc", ":help",
                                   ":l", ":load", ":p", ":print", ":q", ":quit", ":r",
                                   ":reload", ":t", ":type"]
    assert texts(session, ":r") == [":r", ":reload"]
    (project / "sub").mkdir()
    (project / "sub" / "inner.ndx").write_text("{ }")
    (project / ".hidden.ndx").write_text("{ }")
    assert texts(session, ":l ") == ["pkgs.ndx", "sub/"]
    assert texts(session, ":l su") == ["sub/"]
    assert candidates(session.session, ":l sub/i") == [Candidate("sub/inner.ndx", -5)]
    assert texts(session, ":l .h") == [".hidden.ndx"]
    assert texts(session, ":l nowhere/") == []
