"""Our store paths and `.drv` files are Nix's (with the store directory /ndx/store):
Nix 2.8, pointed at a throw-away store whose logical directory is /ndx/store, is the
oracle. (Identity is not required by ndx, but it proves the hashing scheme right.)"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ndx.evaluator.io import Derivation, FixedOutput
from ndx.stdlib.store.encoding import from_nix_base32
from ndx.stdlib.store.memory import MemoryStore


@pytest.fixture
def nix(tmp_path):
    url = f"local?root={tmp_path}/nixroot&store=/ndx/store"
    env = {**os.environ, "NIX_CONF_DIR": str(tmp_path), "HOME": str(tmp_path)}

    def run(*args: str) -> str:
        out = subprocess.run([args[0], "--store", url, *args[1:]], capture_output=True,
                             text=True, env=env, check=True)
        return out.stdout.strip()

    return run


def test_added_trees_match_nix_store_add(nix, tree) -> None:
    assert MemoryStore().add_path(tree, name="src") == nix("nix-store", "--add", tree)


def test_flat_files_match_nix_store_add_fixed(nix, tree) -> None:
    file = os.path.join(tree, "hello.c")
    expected = nix("nix-store", "--add-fixed", "sha256", file)
    assert MemoryStore().add_path(file, name="hello.c", recursive=False) == expected


def test_to_file_matches(nix, tree) -> None:
    store = MemoryStore()
    src = store.add_path(tree, name="src")
    expected = json.loads(nix("nix-instantiate", "--eval", "-E",
                              f'builtins.toFile "t.sh" "cat ${{{tree}}}/hello.c"'))
    assert store.add_text("t.sh", f"cat {src}/hello.c", [src]) == expected


NIX_DRVS = """
let
  a = derivation { name = "a"; system = "x86_64-linux"; builder = "/bin/sh";
                   args = [ "-c" "echo a > $out" ]; outputs = [ "out" "dev" ]; };
  f = derivation { name = "f.tar"; system = "x86_64-linux"; builder = "builtin:fetchurl";
                   url = "https://example.org/f.tar"; outputHashMode = "flat";
                   outputHashAlgo = "sha256"; outputHash = "%s"; };
in derivation { name = "b"; system = "x86_64-linux"; builder = "/bin/sh";
                args = [ "-c" "x\\"y\\n\\t\\\\" ]; dep = a.dev; src = f; }
"""


def test_derivations_match_nix_instantiate(nix) -> None:
    digest = bytes(range(32))
    expr = NIX_DRVS % digest.hex()
    expected_path = nix("nix-instantiate", "-E", expr)
    store = MemoryStore()
    a = store.instantiate(Derivation(
        "a", "x86_64-linux", "/bin/sh", ("-c", "echo a > $out"),
        {"name": "a", "system": "x86_64-linux", "builder": "/bin/sh", "outputs": "out dev"},
        ("out", "dev")))
    f = store.instantiate(Derivation(
        "f.tar", "x86_64-linux", "builtin:fetchurl", (),
        {"name": "f.tar", "system": "x86_64-linux", "builder": "builtin:fetchurl",
         "url": "https://example.org/f.tar", "outputHashMode": "flat",
         "outputHashAlgo": "sha256", "outputHash": digest.hex()},
        fixed=FixedOutput("sha256", digest, False)))
    b = store.instantiate(Derivation(
        "b", "x86_64-linux", "/bin/sh", ("-c", 'x"y\n\t\\'),
        {"name": "b", "system": "x86_64-linux", "builder": "/bin/sh",
         "dep": a.outputs["dev"], "src": f.outputs["out"]},
        input_drvs={a.drv_path: frozenset(["dev"]), f.drv_path: frozenset(["out"])}))
    assert b.drv_path == expected_path
    root = nix("nix-store", "--print-env", expected_path)  # Nix can read its own .drv
    assert b.outputs["out"] in root
    with open(store.real_path(b.drv_path)) as ours:
        text = ours.read()
    assert f'("dep","{a.outputs["dev"]}")' in text


def test_base32_round_trips() -> None:
    from ndx.stdlib.store.encoding import nix_base32

    for size in (16, 20, 32, 64):
        digest = bytes((i * 37 + size) % 256 for i in range(size))
        assert from_nix_base32(nix_base32(digest), size) == digest


NON_UTF8 = """
let h = builtins.substring 0 1 "é"; t = builtins.substring 1 1 "é"; in [
  (builtins.toFile "half" h)
  (builtins.toFile "whole" (h + t))
  (builtins.toFile "mixed" "x${h}y")
  (derivation { name = "d"; system = "x86_64-linux"; builder = "/bin/sh"; v = h; }).drvPath
]
"""


def test_strings_that_are_not_utf8_are_stored_as_nix_stores_them(nix) -> None:
    """Half of a UTF-8 character (from `substring`) in `toFile` and in a derivation's
    environment: the bytes written, hence the paths, are Nix's."""
    from ndx.cli.eval import run_eval

    expected = nix("nix-instantiate", "--eval", "--strict", "-E", NON_UTF8)
    result = run_eval(None, NON_UTF8, strict=True)
    assert (result.stderr, result.stdout.strip()) == ("", expected)
