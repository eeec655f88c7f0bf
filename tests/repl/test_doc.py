"""`:doc`: every builtin is documented; builtins show their synopsis and docstring,
functions written in ndx show their arguments, comment and location."""

from __future__ import annotations

import inspect

import pytest

import ndx.stdlib  # noqa: F401 - registers the store, fetch and image builtins
from ndx.cli.repl.docs import describe_builtin
from ndx.evaluator.builtins.registry import REGISTRY
from ndx.evaluator.context import EvalContext

from .conftest import Captured

EvalContext()  # fills the registry (every builtins module is imported)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_builtin_has_a_useful_summary(name: str) -> None:
    spec = REGISTRY[name]
    assert spec.doc, f"builtin '{name}' has no docstring"
    assert spec.doc[0].isupper(), spec.doc
    assert len(spec.doc) >= 12 and spec.doc.rstrip()[-1] in ".)`", spec.doc
    text = describe_builtin(spec)
    synopsis = text.splitlines()[0]
    assert synopsis.startswith("Synopsis: ")
    assert len(synopsis.split()) == 2 + spec.arity, synopsis  # a name per argument
    assert inspect.cleandoc(spec.fn.__doc__ or "").splitlines()[0] in text


def test_doc_of_builtins(session: Captured) -> None:
    head = session.value(":doc head")
    assert head == session.value(":doc builtins.head")
    assert head.splitlines()[0] == "Synopsis: builtins.head xs"
    assert "Return the first element of a list" in head
    assert "Also available as 'map' without 'builtins.'." in session.value(":doc map")
    image = session.value(":doc buildImage")
    assert image.startswith("Synopsis: buildImage ")
    assert "currentSystem" in session.value(":doc currentSystem")
    partial = session.value(":doc builtins.map (x: x)")
    assert partial.startswith("'builtins.map (x: x)' is the builtin 'map' applied to 1 of "
                              "its 2 arguments.")


def test_doc_of_functions_written_in_ndx(session: Captured) -> None:
    session.run(":l pkgs.ndx")
    doc = session.value(":doc id")
    assert doc.startswith("'id' is a function written in ndx, taking one argument.")
    assert "    Return its argument unchanged." in doc
    assert "pkgs.ndx:28:8: note: defined here" in doc and "28 |   id = x: x;" in doc
    formals = session.value(":doc { a, b ? 1, ... }: a")
    assert formals.startswith("'{ a, b ? 1, ... }: a' is a function written in ndx, "
                              "taking { a, b ? …, ... }.")
    session.run("head = 1")  # a binding hides the builtin's name
    assert session.value(":doc head") == \
        "'head' is an integer, not a function: it has no documentation."
    assert session.value(":doc builtins.head").startswith("Synopsis: builtins.head")
    assert "undefined variable 'nothing'" in session.run(":doc nothing")[1]
