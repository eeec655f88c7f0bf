"""`<ndx/fetch/fetchurl.ndx>`: the fetchurl function written in ndx over
`builtin:fetchurl` — its arguments, defaults and errors."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from ndx.cli.build import STDLIB_DIR
from ndx.evaluator.context import EvalContext
from ndx.evaluator.session import EvalRequest, eval_output, run_deep
from ndx.lang.errors import NdxError

DATA = b"payload of the file\n"


def evaluate(store, expr: str) -> str:
    ctx = EvalContext(store, search_path=[("ndx", STDLIB_DIR)])
    text = run_deep(eval_output, ctx, EvalRequest(expression=expr, strict=True))
    return text.strip().strip('"')


@pytest.fixture
def source(tmp_path) -> str:
    (tmp_path / "file.txt").write_bytes(DATA)
    return (tmp_path / "file.txt").as_uri()


def fetch(store, args: str) -> tuple[str, str]:
    drv = evaluate(store, f"(import <ndx/fetch/fetchurl.ndx> {{ {args} }}).drvPath")
    out = evaluate(store, f"(import <ndx/fetch/fetchurl.ndx> {{ {args} }}).outPath")
    store.build([drv])
    return drv, out


def content(store, path: str) -> bytes:
    with open(store.real_path(path), "rb") as file:
        return file.read()


@pytest.mark.parametrize("hash_arg", [
    f'sha256 = "{hashlib.sha256(DATA).hexdigest()}"',
    f'sha1 = "{hashlib.sha1(DATA).hexdigest()}"',
    f'sha512 = "{hashlib.sha512(DATA).hexdigest()}"',
    f'hash = "sha256-{base64.b64encode(hashlib.sha256(DATA).digest()).decode()}"',
])
def test_every_hash_form(store, source, hash_arg) -> None:
    _drv, out = fetch(store, f'url = "{source}"; {hash_arg};')
    assert out.endswith("-file.txt") and content(store, out) == DATA


def test_urls_name_and_same_path_for_any_url(store, source) -> None:
    sha = hashlib.sha256(DATA).hexdigest()
    _drv1, out1 = fetch(store, f'urls = [ "http://127.0.0.1:9/gone" "{source}" ]; '
                              f'sha256 = "{sha}"; name = "data";')
    assert out1.endswith("-data") and content(store, out1) == DATA
    drv2 = evaluate(store, f'(import <ndx/fetch/fetchurl.ndx> {{ url = "https://else.where/x";'
                           f' sha256 = "{sha}"; name = "data"; }}).outPath')
    assert drv2 == out1


def test_executable(store, tmp_path) -> None:
    (tmp_path / "tool").write_bytes(b"#!/bin/sh\necho tool\n")
    (tmp_path / "tool").chmod(0o755)
    from ndx.stdlib.store.nar import hash_path

    digest = hash_path(str(tmp_path / "tool"))[0].hex()
    _drv, out = fetch(store, f'url = "{(tmp_path / "tool").as_uri()}"; sha256 = "{digest}"; '
                             "executable = true;")
    assert os.access(store.real_path(out), os.X_OK)


@pytest.mark.parametrize("args, message", [
    ('url = "file:///x";', "a hash is required"),
    ('url = "file:///x"; sha256 = "aa"; sha1 = "bb";', "only one of"),
    ('sha256 = "aa";', "'url' or 'urls' is required"),
])
def test_argument_errors(store, args, message) -> None:
    with pytest.raises(NdxError, match=message):
        evaluate(store, f"(import <ndx/fetch/fetchurl.ndx> {{ {args} }}).outPath")
