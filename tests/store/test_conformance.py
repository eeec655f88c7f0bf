"""The StoreIO contract, run over both implementations (memory and disk): the same
inputs give the same paths, contents are where `real_path` says, errors are NdxErrors."""

from __future__ import annotations

import os

import pytest

from ndx.evaluator.io import Derivation, FixedOutput
from ndx.lang.errors import NdxError
from ndx.stdlib.store.drv import HOST_FINGERPRINT_ATTR, parse_derivation
from ndx.stdlib.store.paths import is_store_path, placeholder


def make_drv(name: str = "hello", *, script: str = "echo hi > $out", outputs=("out",),
             input_drvs=None, input_srcs=frozenset(), fixed=None, env=None) -> Derivation:
    base = {"name": name, "system": "x86_64-linux", "builder": "/bin/sh"}
    if len(outputs) > 1:
        base["outputs"] = " ".join(outputs)
    base.update(env or {})
    return Derivation(name, "x86_64-linux", "/bin/sh", ("-c", script), base, tuple(outputs),
                      input_drvs or {}, frozenset(input_srcs), fixed)


def test_store_dir_is_logical(any_store) -> None:
    assert any_store.store_dir == "/ndx/store"


def test_add_path_copies_the_tree_content_addressed(any_store, tree) -> None:
    path = any_store.add_path(tree, name="src")
    assert is_store_path(path) and path.endswith("-src")
    assert any_store.is_valid(path)
    real = any_store.real_path(path)
    with open(os.path.join(real, "hello.c")) as file:
        assert file.read() == "int main(void) { return 0; }\n"
    assert os.access(os.path.join(real, "run.sh"), os.X_OK)
    assert not os.access(os.path.join(real, "hello.c"), os.X_OK)
    assert os.readlink(os.path.join(real, "link")) == "sub/data.txt"
    assert any_store.real_path(path + "/sub/data.txt") == os.path.join(real, "sub", "data.txt")
    assert any_store.add_path(tree, name="src") == path


def test_add_path_depends_on_content_and_name(any_store, tree) -> None:
    first = any_store.add_path(tree, name="src")
    assert any_store.add_path(tree, name="other") != first
    with open(os.path.join(tree, "hello.c"), "a") as file:
        file.write("// changed\n")
    assert any_store.add_path(tree, name="src") != first
    assert any_store.is_valid(first)


def test_add_path_filter_sees_host_paths_and_types(any_store, tree, tmp_path) -> None:
    seen = {}

    def keep(path: str, kind: str) -> bool:
        seen[os.path.relpath(path, tree)] = kind
        return not path.endswith(".sh") and kind != "symlink"

    filtered = any_store.add_path(tree, name="src", filter=keep)
    assert seen == {"hello.c": "regular", "run.sh": "regular", "sub": "directory",
                    "sub/data.txt": "regular", "link": "symlink"}
    assert sorted(os.listdir(any_store.real_path(filtered))) == ["hello.c", "sub"]
    os.unlink(os.path.join(tree, "run.sh"))
    os.unlink(os.path.join(tree, "link"))
    assert any_store.add_path(tree, name="src") == filtered


def test_add_path_flat_hashes_a_single_file(any_store, tree) -> None:
    file = os.path.join(tree, "hello.c")
    flat = any_store.add_path(file, name="hello.c", recursive=False)
    assert flat != any_store.add_path(file, name="hello.c")
    with open(any_store.real_path(flat)) as stored:
        assert stored.read().startswith("int main")
    with pytest.raises(NdxError, match="not a regular file"):
        any_store.add_path(tree, name="src", recursive=False)


@pytest.mark.parametrize("name", ["", ".hidden", "a b", "x/y", "é", "n" * 212])
def test_invalid_names_are_user_errors(any_store, tree, name) -> None:
    with pytest.raises(NdxError):
        any_store.add_path(tree, name=name)
    with pytest.raises(NdxError):
        any_store.add_text(name, "x", [])


def test_missing_source_is_a_user_error(any_store, tmp_path) -> None:
    with pytest.raises(NdxError, match="does not exist"):
        any_store.add_path(str(tmp_path / "nope"), name="nope")


def test_add_text_with_references(any_store, tree) -> None:
    src = any_store.add_path(tree, name="src")
    path = any_store.add_text("script.sh", f"cat {src}/hello.c\n", [src])
    assert path.endswith("-script.sh")
    with open(any_store.real_path(path)) as file:
        assert file.read() == f"cat {src}/hello.c\n"
    assert path != any_store.add_text("script.sh", f"cat {src}/hello.c\n", [])
    assert any_store.add_text("script.sh", f"cat {src}/hello.c\n", [src]) == path
    with pytest.raises(NdxError, match="not a valid store path"):
        any_store.add_text("x", "y", ["/ndx/store/00000000000000000000000000000000-gone"])


def test_add_text_writes_the_bytes_of_a_string_that_is_not_utf8(any_store) -> None:
    """ndx strings keep bytes that are not UTF-8 as surrogate escapes (half of "é" from
    `substring`): the store gets the original bytes, and a drv's env may hold them."""
    half = b"\xc3".decode("utf-8", "surrogateescape")
    path = any_store.add_text("half", f"a{half}b", [])
    with open(any_store.real_path(path), "rb") as file:
        assert file.read() == b"a\xc3b"
    drv = any_store.instantiate(make_drv(env={"v": half}))
    with open(any_store.real_path(drv.drv_path), "rb") as file:
        assert b'("v","\xc3")' in file.read()
    assert parse_derivation(open(any_store.real_path(drv.drv_path), encoding="utf-8",
                                 errors="surrogateescape").read()).env["v"] == half


def test_references_are_the_paths_given(any_store, tree) -> None:
    src = any_store.add_path(tree, name="src")
    assert any_store.references(any_store.add_text("t", f"{src}", [src])) == {src}
    assert any_store.references(any_store.add_text("u", "none", [])) == frozenset()


def test_instantiate_writes_a_readable_drv(any_store) -> None:
    result = any_store.instantiate(make_drv())
    assert result.drv_path.endswith("-hello.drv") and any_store.is_valid(result.drv_path)
    assert set(result.outputs) == {"out"} and result.outputs["out"].endswith("-hello")
    with open(any_store.real_path(result.drv_path)) as file:
        text = file.read()
    assert text.startswith("Derive([(\"out\",")
    parsed = parse_derivation(text)
    assert parsed.env["out"] == result.outputs["out"]
    assert parsed.args == ("-c", "echo hi > $out")
    assert parsed.unparse() == text
    assert any_store.instantiate(make_drv()) == result


def test_every_attribute_changes_the_paths(any_store) -> None:
    base = any_store.instantiate(make_drv())
    assert any_store.instantiate(make_drv(script="echo ho > $out")).outputs != base.outputs
    assert any_store.instantiate(make_drv(env={"x": "1"})).outputs != base.outputs
    assert any_store.instantiate(make_drv("other")).outputs["out"].endswith("-other")


def test_multiple_outputs_get_their_own_paths(any_store) -> None:
    result = any_store.instantiate(make_drv(outputs=("out", "bin", "dev")))
    paths = result.outputs
    assert set(paths) == {"out", "bin", "dev"}
    assert paths["bin"].endswith("-hello-bin") and paths["dev"].endswith("-hello-dev")
    assert len(set(paths.values())) == 3


def test_input_derivations_change_dependents(any_store) -> None:
    a1 = any_store.instantiate(make_drv("a"))
    a2 = any_store.instantiate(make_drv("a", script="echo other > $out"))
    b1 = any_store.instantiate(make_drv("b", input_drvs={a1.drv_path: frozenset(["out"])},
                                        env={"a": a1.outputs["out"]}))
    b2 = any_store.instantiate(make_drv("b", input_drvs={a2.drv_path: frozenset(["out"])},
                                        env={"a": a2.outputs["out"]}))
    assert b1.outputs != b2.outputs


def test_fixed_output_path_depends_only_on_hash_and_name(any_store) -> None:
    digest = bytes(range(32))
    fixed = FixedOutput("sha256", digest, False)
    one = any_store.instantiate(make_drv("src.tar.gz", fixed=fixed,
                                         env={"url": "https://one.example/src.tar.gz"}))
    two = any_store.instantiate(make_drv("src.tar.gz", fixed=fixed,
                                         env={"url": "https://two.example/src.tar.gz"}))
    assert one.outputs == two.outputs and one.drv_path != two.drv_path
    # … and so does everything built from it.
    users = [any_store.instantiate(make_drv("user", input_drvs={f.drv_path: frozenset(["out"])},
                                            env={"src": f.outputs["out"]}))
             for f in (one, two)]
    assert users[0].outputs == users[1].outputs and users[0].drv_path != users[1].drv_path
    recursive = any_store.instantiate(make_drv("src.tar.gz", fixed=FixedOutput(
        "sha256", digest, True)))
    assert recursive.outputs != one.outputs


def test_fixed_output_must_have_only_out(any_store) -> None:
    with pytest.raises(NdxError, match="exactly one output"):
        any_store.instantiate(make_drv(outputs=("out", "bin"),
                                       fixed=FixedOutput("sha256", bytes(32), False)))


def test_bad_output_names_are_rejected(any_store) -> None:
    with pytest.raises(NdxError):
        any_store.instantiate(make_drv(outputs=("out", "out")))
    with pytest.raises(NdxError):
        any_store.instantiate(make_drv(outputs=("drv",)))


def test_inputs_must_be_in_the_store(any_store) -> None:
    with pytest.raises(NdxError, match="not a valid store path"):
        any_store.instantiate(make_drv(input_srcs={
            "/ndx/store/00000000000000000000000000000000-gone"}))


def test_host_deps_fingerprint_is_part_of_the_derivation(any_store) -> None:
    result = any_store.instantiate(make_drv(env={"__impureHostDeps": "/usr /bin"}))
    with open(any_store.real_path(result.drv_path)) as file:
        env = parse_derivation(file.read()).env
    assert env[HOST_FINGERPRINT_ATTR].startswith("sha256:")
    assert result.outputs != any_store.instantiate(make_drv()).outputs
    with pytest.raises(NdxError, match="absolute host path"):
        any_store.instantiate(make_drv(env={"__impureHostDeps": "usr"}))


def test_placeholder_is_nix_compatible() -> None:
    assert placeholder("out") == "/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9"


def test_realise_of_valid_paths_is_a_no_op(any_store, tree) -> None:
    path = any_store.add_path(tree, name="src")
    any_store.realise([path, path + "/hello.c"])


def test_real_path_outside_the_store_is_an_error(any_store) -> None:
    with pytest.raises(NdxError):
        any_store.real_path("/usr/bin/env")


def test_memory_and_disk_stores_compute_the_same_paths(tmp_path, tree) -> None:
    from ndx.stdlib.store.disk import DiskStore
    from ndx.stdlib.store.memory import MemoryStore

    memory = MemoryStore()
    with DiskStore(str(tmp_path / "store")) as disk:
        for store in (memory, disk):
            src = store.add_path(tree, name="src")
            text = store.add_text("t", "hello", [src])
            a = store.instantiate(make_drv("a", input_srcs={src, text}))
            b = store.instantiate(make_drv("b", outputs=("out", "dev"),
                                           input_drvs={a.drv_path: frozenset(["out"])}))
            store.results = (src, text, a, b)  # type: ignore[union-attr]
        assert memory.results == disk.results  # type: ignore[attr-defined]


def test_structured_host_deps_are_fingerprinted_too(any_store) -> None:
    import json

    result = any_store.instantiate(make_drv(env={"__json": json.dumps(
        {"__impureHostDeps": ["/usr"], "name": "hello"})}))
    with open(any_store.real_path(result.drv_path)) as file:
        assert HOST_FINGERPRINT_ATTR in parse_derivation(file.read()).env
