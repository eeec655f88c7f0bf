"""`ndx eval -A` on the examples, as users explore them: the file is a function with
defaults (`{ pkgs ? import <ndx> { } }: …`), auto-called on the way to the attribute."""

from __future__ import annotations

from pathlib import Path

from ndx.cli.eval import run_eval

ROOT = Path(__file__).resolve().parents[2]
GENERIC = str(ROOT / "examples" / "redis-generic.ndx")
CLASSIC = str(ROOT / "examples" / "redis.ndx")


def test_eval_selects_attributes_of_the_generic_example() -> None:
    result = run_eval(GENERIC, None, attr_paths=(
        "redisDocker_6_0_16.imageTag", "redisDocker_2_8_23.imageTag",
        "redisDocker_3_0_7.imageName"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '"6.0.16"\n"2.8.23"\n"redis"\n'


def test_old_versions_instantiate_with_their_own_source() -> None:
    result = run_eval(None, f"""
      let e = import {GENERIC} {{ }};
          spec = image: builtins.fromJSON (builtins.unsafeDiscardStringContext image.imageSpec);
          redisOf = image: builtins.head (spec image).contents;
      in map (a: redisOf e.${{a}}) [ "redisDocker_3_0_7" "redisDocker_2_8_23" ]""",
                      strict=True, json=True)
    assert result.exit_code == 0, result.stderr
    paths = result.stdout
    assert "-redis-3.0.7" in paths and "-redis-2.8.23" in paths


def test_eval_selects_the_classic_variants() -> None:
    result = run_eval(CLASSIC, None, attr_paths=("redis.imageName", "redisNoShell.imageName"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '"redis"\n"redis-noshell"\n'


def test_ndx_is_found_without_being_in_nix_path(tmp_path: Path) -> None:
    # `<ndx>` falls back on the installed library, like Nix's built-in `<nix/…>`: it is
    # not an entry of builtins.nixPath, and an -I ndx=… entry comes first.
    result = run_eval(None, "[ (import <ndx> { }).redis.name builtins.nixPath ]", strict=True)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '[ "redis-7.0.15" [ ] ]\n'
    (tmp_path / "default.ndx").write_text('{ }: "mine"')
    result = run_eval(None, "import <ndx> { }", includes=(f"ndx={tmp_path}",))
    assert result.stdout == '"mine"\n'
