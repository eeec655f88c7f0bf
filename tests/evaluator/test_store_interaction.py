"""What the evaluator asks of the store: copying sources, instantiating derivations, and
refusing clearly when there is no store."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndx.evaluator.context import EvalContext
from ndx.evaluator.errors import EvalError, NotAvailableError
from ndx.evaluator.printer import print_value
from ndx.evaluator.values import ContextString
from ndx.stdlib.store import MemoryStore

from .conftest import evaluate_text

DRV = 'builtins.derivationStrict { name = "hello"; builder = "/bin/sh"; system = "x86_64-linux"; }'


def test_interpolated_path_is_copied_and_becomes_context(tmp_path: Path) -> None:
    (tmp_path / "src.txt").write_text("hi")
    ctx = EvalContext(MemoryStore())
    value = evaluate_text('"${./src.txt}"', ctx, base_dir=str(tmp_path))
    assert type(value) is ContextString
    assert value.text.startswith("/ndx/store/") and value.text.endswith("-src.txt")
    assert value.context == {value.text}


def test_context_flows_through_concatenation_and_interpolation(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a")
    ctx = EvalContext(MemoryStore())
    value = evaluate_text('let p = "${./a}"; in "x" + "pre-${p}-post" + ""', ctx,
                          base_dir=str(tmp_path))
    assert type(value) is ContextString and len(value.context) == 1


def test_to_string_of_a_path_does_not_copy(tmp_path: Path) -> None:
    assert evaluate_text("toString ./nothing-here", base_dir=str(tmp_path)) == \
        str(tmp_path / "nothing-here")


def test_copying_a_missing_path_names_it(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="getting status of .*missing.*No such file"):
        evaluate_text('"${./missing}"', EvalContext(MemoryStore()), base_dir=str(tmp_path))


def test_without_a_store_copying_and_derivations_are_not_available(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotAvailableError, match="no store"):
        evaluate_text('"${./f}"', base_dir=str(tmp_path))
    with pytest.raises(NotAvailableError, match="derivation is not available"):
        evaluate_text(DRV)


def test_derivation_strict_returns_paths_with_context() -> None:
    ctx = EvalContext(MemoryStore())
    value = evaluate_text(DRV, ctx)
    drv = value["drvPath"]
    out = value["out"]
    assert drv.text.endswith("-hello.drv") and drv.context == {"=" + drv.text}
    assert out.text.endswith("-hello") and out.context == {f"!out!{drv.text}"}
    assert ctx.derivation_outputs[drv.text] == {"out": out.text}


def test_derivation_inputs_come_from_string_context(tmp_path: Path) -> None:
    (tmp_path / "script.sh").write_text("echo hi")
    store = MemoryStore()
    ctx = EvalContext(store)
    text = (
        'let dep = builtins.derivationStrict { name = "dep"; builder = "/bin/sh"; '
        'system = "x86_64-linux"; };\n'
        'in builtins.derivationStrict { name = "top"; builder = "/bin/sh"; '
        'system = "x86_64-linux"; args = [ "${./script.sh}" ]; dep = dep.out; }')
    first = evaluate_text(text, ctx, base_dir=str(tmp_path))
    again = evaluate_text(text, EvalContext(store), base_dir=str(tmp_path))
    assert first["drvPath"].text == again["drvPath"].text


def test_derivation_requires_builder_and_rejects_drv_names() -> None:
    ctx = EvalContext(MemoryStore())
    with pytest.raises(EvalError, match="required attribute 'builder' missing"):
        evaluate_text('builtins.derivationStrict { name = "x"; system = "s"; }', ctx)
    with pytest.raises(EvalError, match="not allowed to end in '.drv'"):
        evaluate_text('builtins.derivationStrict { name = "x.drv"; builder = "b"; '
                      'system = "s"; }', ctx)
    with pytest.raises(EvalError, match="duplicate derivation output 'out'"):
        evaluate_text('builtins.derivationStrict { name = "x"; builder = "b"; system = "s";'
                      ' outputs = [ "out" "out" ]; }', ctx)


def test_fixed_output_derivation_hash_is_parsed() -> None:
    ctx = EvalContext(MemoryStore())
    sha = "0" * 64
    value = evaluate_text(
        'builtins.derivationStrict { name = "src"; builder = "b"; system = "s"; '
        f'outputHash = "{sha}"; outputHashAlgo = "sha256"; outputHashMode = "recursive"; }}',
        ctx)
    assert value["out"].text.endswith("-src")
    with pytest.raises(EvalError, match="wrong length"):
        evaluate_text('builtins.derivationStrict { name = "src"; builder = "b"; system = "s";'
                      ' outputHash = "abc"; outputHashAlgo = "sha256"; }', ctx)


def test_importing_a_store_path_reads_it_through_the_store(tmp_path: Path) -> None:
    (tmp_path / "x.ndx").write_text("{ v = 42; }")
    ctx = EvalContext(MemoryStore())
    value = evaluate_text('(import "${./x.ndx}").v', ctx, base_dir=str(tmp_path))
    assert value == 42


READ_BACK = """
let
  f = builtins.toFile "f" "hello";
  g = builtins.toFile "g" "see ${f}";
  d = derivation { name = "d"; system = "x86_64-linux"; builder = "/bin/sh";
                   v = builtins.readFile g; };
in {
  inherit f g;
  fromG = builtins.getContext (builtins.readFile g);
  fromGString = builtins.getContext (builtins.readFile "${g}");
  fromF = builtins.getContext (builtins.readFile f);
  drv = builtins.readFile d.drvPath;
}
"""


def test_reading_a_store_file_carries_the_paths_it_refers_to(tmp_path: Path) -> None:
    """`readFile` of a file in the store: the string's context is the store object's
    references that occur in the contents (Nix ≥ 2.12), so a derivation using the string
    has them as inputs; a file outside the store gives a plain string."""
    (tmp_path / "plain").write_text("/ndx/store/not-a-reference")
    ctx = EvalContext(MemoryStore())
    value = {name: print_value(v) for name, v in
             evaluate_text(READ_BACK, ctx, base_dir=str(tmp_path)).items()}
    f = value["f"].strip('"')
    assert value["fromG"] == value["fromGString"] == f'{{ "{f}" = {{ path = true; }}; }}'
    assert value["fromF"] == "{ }"
    assert f'],[\\"{f}\\"],\\"x86_64-linux\\"' in value["drv"]
    assert evaluate_text("builtins.readFile ./plain", ctx, base_dir=str(tmp_path)) == \
        "/ndx/store/not-a-reference"


def test_reading_a_store_file_keeps_only_references_named_in_it(tmp_path: Path) -> None:
    store = MemoryStore()
    ctx = EvalContext(store)
    a = store.add_text("a", "a", [])
    b = store.add_text("b", "b", [])
    both = store.add_text("both", f"only {a}", [a, b])
    value = evaluate_text(f'builtins.readFile "{both}"', ctx)
    assert type(value) is ContextString and value.context == {a}
