"""The `buildImage` builtin: arguments checked at evaluation time, an image derivation whose
inputs come from the arguments' string context, built by the store."""

from __future__ import annotations

import json

import pytest

import ndx.stdlib  # noqa: F401  (registers buildImage)
from ndx.evaluator.context import EvalContext
from ndx.evaluator.errors import EvalError
from ndx.evaluator.runtime import force_deep
from ndx.evaluator.session import run_deep
from ndx.evaluator.values import string_text
from ndx.stdlib.store.disk import DiskStore
from ndx.stdlib.store.memory import MemoryStore

from .helpers import layer_members
from .storetree import HELLO_C

HELLO = r'''
let
  hello = let strict = builtins.derivationStrict {
    name = "hello-1.0"; system = "x86_64-linux"; builder = "/bin/sh";
    __impureHostDeps = [ "/usr" "/bin" "/lib" "/lib64" ]; PATH = "/usr/bin:/bin";
    args = [ "-ec" "mkdir -p $out/bin; musl-gcc -static -Os -s -o $out/bin/hello ${./hello.c}" ];
  }; in { type = "derivation"; outPath = strict.out; drvPath = strict.drvPath; };
in
'''


def evaluate(text: str, ctx: EvalContext, base_dir: str = "/"):
    return run_deep(lambda: force_deep(ctx.evaluate_string(text, base_dir=base_dir)))


def test_build_image_builtin_makes_a_derivation_docker_runs(tmp_path, dockerd) -> None:
    (tmp_path / "hello.c").write_text(HELLO_C)
    with DiskStore(str(tmp_path / "store")) as store:
        ctx = EvalContext(store)
        image = evaluate(HELLO + 'buildImage { name = "ndx-eval-hello"; tag = "1"; '
                         'copyToRoot = [ hello ]; config.Cmd = [ "${hello}/bin/hello" ]; }',
                         ctx, str(tmp_path))
        drv_path = string_text(image["drvPath"])
        assert image["type"] == "derivation" and image["builder"] == "builtin:buildImage"
        spec = json.loads(string_text(image["imageSpec"]))
        assert spec["config"]["Cmd"][0].endswith("-hello-1.0/bin/hello")
        store.build([drv_path])
        result = store.real_path(string_text(image["outPath"]))
        dockerd.load(result)
        assert dockerd.run("ndx-eval-hello:1") == "Hello from ndx!\n"
        assert any(n.endswith("-hello-1.0/bin/hello") for n in layer_members(result))


@pytest.mark.parametrize("text, message", [
    ('buildImage { name = "x"; confg = {}; }', "unknown argument 'confg' (did you mean 'config'?)"),
    ('buildImage { name = "x"; config.Entrypoitn = [ "/x" ]; }',
     "unknown image config key 'Entrypoitn' (did you mean 'Entrypoint'?)"),
    ('buildImage { name = "x"; config.Cmd = "/bin/sh"; }', "config.Cmd must be a list"),
    ('buildImage { name = "x"; compressor = "xz"; }', "unknown compressor \"xz\""),
    ('buildImage { name = "x"; users = [ { name = "a"; uid = "1"; } ]; }',
     "users[0].uid must be a non-negative integer"),
    ('buildImage { name = "x"; copyToRoot = [ "hello" ]; }', "must be packages"),
    ('buildImage { tag = "1"; }', "the argument 'name' is required"),
    ('buildImage { name = "x"; config = x: x; }', "cannot use a function"),
])
def test_argument_errors_at_evaluation_time(text, message) -> None:
    with pytest.raises(EvalError) as info:
        evaluate(text, EvalContext(MemoryStore()))
    assert message in str(info.value)
