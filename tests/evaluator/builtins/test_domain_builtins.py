"""The domain builtins as the evaluator calls them: what needs a store refuses clearly
without one, big inputs run without deep Python recursion, messages name the problem.
(Agreement with Nix is the oracle corpus' job: tests/oracle/builtins/.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ndx.evaluator.builtins.registry import REGISTRY
from ndx.evaluator.context import EvalContext
from ndx.evaluator.errors import EvalError, NotAvailableError
from ndx.evaluator.runtime import force_deep
from ndx.evaluator.values import ContextString, Thunk
from ndx.stdlib.store import MemoryStore

from ..conftest import evaluate_text


def plain(value: object) -> object:
    """A deep-forced value with its (evaluated) thunks replaced by their values."""
    if type(value) is Thunk:
        return plain(value.force())
    if type(value) is list:
        return [plain(v) for v in value]
    if type(value) is dict:
        return {k: plain(v) for k, v in value.items()}
    return value

DOMAIN_BUILTINS = """
add sub mul div lessThan bitAnd bitOr bitXor ceil floor
head tail length elemAt elem map filter foldl' genList sort concatLists concatMap partition
groupBy all any
attrNames attrValues getAttr hasAttr removeAttrs intersectAttrs listToAttrs mapAttrs
catAttrs zipAttrsWith genericClosure
substring stringLength replaceStrings concatStringsSep split match splitVersion
compareVersions parseDrvName hashString baseNameOf dirOf
getContext appendContext hasContext unsafeDiscardStringContext unsafeDiscardOutputDependency
toJSON fromJSON fromTOML toXML
readFile readDir pathExists path filterSource hashFile toFile toPath storePath
""".split()


@pytest.mark.parametrize("name", DOMAIN_BUILTINS)
def test_every_builtin_is_registered_with_a_doc_line(name: str) -> None:
    spec = REGISTRY[name]
    assert spec.doc and spec.doc[0].isupper() and len(spec.doc) > 20


@pytest.mark.parametrize("expression, what", [
    ('builtins.toFile "a" "b"', "builtins.toFile"),
    ('builtins.path { path = ./x; }', "adding"),
    ('builtins.filterSource (p: t: true) ./x', "adding"),
    ('builtins.toJSON ./x', "copying"),
    ('builtins.storePath "/ndx/store/00000000000000000000000000000000-x"', "storePath"),
])
def test_store_builtins_without_a_store_say_so(tmp_path: Path, expression: str,
                                               what: str) -> None:
    (tmp_path / "x").write_text("x")
    ctx = EvalContext(None)
    with pytest.raises(NotAvailableError) as info:
        evaluate_text(expression, ctx, base_dir=str(tmp_path))
    assert what in str(info.value) and "no store" in str(info.value)


def test_reading_needs_no_store(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("contents")
    ctx = EvalContext(None)
    assert plain(evaluate_text('[ (builtins.readFile ./f) (builtins.pathExists ./f) '
                               '(builtins.hashFile "md5" ./f) (builtins.readDir ./.) ]', ctx,
                               base_dir=str(tmp_path))) == [
        "contents", True, "98bf7d8c15784f0a3d63204441e1e2aa", {"f": "regular"}]


def test_dangling_symlinks_exist_and_are_listed(tmp_path: Path) -> None:
    """(Not an oracle case: a dangling link in the repository breaks copying it.)
    Nix 2.8: `pathExists` uses lstat; `readDir` reports the link itself."""
    (tmp_path / "dangling").symlink_to("missing-target")
    ctx = EvalContext(None)
    assert plain(evaluate_text("[ (builtins.pathExists ./dangling) (builtins.readDir ./.) ]",
                               ctx, base_dir=str(tmp_path))) == [True, {"dangling": "symlink"}]


def test_to_file_writes_the_text_with_its_references() -> None:
    store = MemoryStore()
    ctx = EvalContext(store)
    value = evaluate_text('let a = builtins.toFile "a" "x"; in builtins.toFile "b" "see ${a}"',
                          ctx)
    assert type(value) is ContextString and value.context == {value.text}
    with open(store.real_path(value.text)) as handle:
        assert handle.read().startswith("see /ndx/store/")


def test_path_with_the_right_sha256_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("hello\n")
    ctx = EvalContext(MemoryStore())
    flat = evaluate_text('builtins.path { path = ./f; recursive = false; sha256 = '
                         '"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"; }',
                         ctx, base_dir=str(tmp_path))
    assert flat.text.endswith("-f")
    with pytest.raises(EvalError, match="store path mismatch"):
        evaluate_text('builtins.path { path = ./f; recursive = false; sha256 = '
                      '"0000000000000000000000000000000000000000000000000000000000000000"; }',
                      EvalContext(MemoryStore()), base_dir=str(tmp_path))


def test_append_context_checks_the_store() -> None:
    ctx = EvalContext(MemoryStore())
    with pytest.raises(EvalError, match="is not valid"):
        evaluate_text('builtins.appendContext "x" { '
                      '"/ndx/store/00000000000000000000000000000000-x" = { path = true; }; }',
                      ctx)


@pytest.mark.parametrize("expression, message", [
    ('builtins.match "(" "a"', "invalid regular expression '('"),
    ('builtins.split "a{99994}" "a"', "memory limit exceeded by regular expression"),
    ('builtins.hashString "blake3" "a"', "unknown hash algorithm 'blake3'"),
    ('builtins.fromJSON "[1,]"', "while parsing JSON"),
    ('builtins.fromTOML "a = 1979-05-27"', "Dates and times are not supported"),
    ('builtins.substring (-1) 1 "a"', "negative start position"),
    ('builtins.elemAt [ 1 ] 5', "list index 5 is out of bounds"),
    ('builtins.getAttr "x" { y = 1; }', "attribute 'x' missing"),
    ('builtins.replaceStrings [ "a" ] [ ] "a"', "different lengths"),
    ('builtins.genList (x: x) (-3)', "cannot create list of size -3"),
])
def test_errors_name_the_problem(expression: str, message: str) -> None:
    with pytest.raises(EvalError) as info:
        evaluate_text(expression)
    assert message in str(info.value)


def test_big_folds_and_lists_need_no_deep_recursion() -> None:
    """Run on the caller's ordinary thread with a small recursion limit: the list
    builtins and deep forcing are loops."""
    ctx = EvalContext(None)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        total = ctx.evaluate_string("builtins.foldl' (a: b: a + b) 0 "
                                    "(builtins.genList (x: x) 1000000)")
        listed = plain(force_deep(ctx.evaluate_string(
            "builtins.genList (i: { v = i * 2; w = [ i ]; }) 100000")))
        ordered = plain(force_deep(ctx.evaluate_string(
            "builtins.sort (a: b: a > b) (builtins.genList (i: builtins.bitAnd (i * 7919) "
            "4095) 20000)")))
        closure = ctx.evaluate_string(
            "builtins.length (builtins.genericClosure { startSet = [ { key = 0; } ]; "
            "operator = i: if i.key < 30000 then [ { key = i.key + 1; } ] else [ ]; })")
    finally:
        sys.setrecursionlimit(old)
    assert total == 499999500000
    assert len(listed) == 100000 and listed[99999]["v"] == 199998  # type: ignore
    assert ordered[0] == 4095 and ordered[-1] == 0  # type: ignore[index]
    assert closure == 30001


def test_split_keeps_the_subject_when_nothing_matches() -> None:
    ctx = EvalContext(MemoryStore())
    value = evaluate_text('builtins.split "NOMATCH" "${builtins.toFile "f" "y"}"', ctx)
    assert type(value[0]) is ContextString
