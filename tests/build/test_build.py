"""Building derivations: caching, outputs, references and closures, the builder's
environment, failures and their logs, --check and --keep-failed."""

from __future__ import annotations

import os
import stat

import pytest
from ndx.stdlib.build.options import BuildOptions
from ndx.stdlib.store.errors import BuildError
from ndx.stdlib.store.paths import placeholder


def read(store, path: str) -> str:
    with open(store.real_path(path)) as file:
        return file.read()


def test_builds_a_chain_once(store, make, recorder) -> None:
    a = make("a", 'mkdir -p $out/bin; printf "#!/bin/sh\\necho a\\n" > $out/bin/a')
    b = make("b", "mkdir $out; echo $dep0/bin/a > $out/uses-a", deps=(a,))
    report = store.build([b.drv_path], reporter=recorder)
    assert report.built == [a.drv_path, b.drv_path]
    assert report.outputs == {b.drv_path: {"out": b.outputs["out"]}}
    assert read(store, b.outputs["out"] + "/uses-a") == a.outputs["out"] + "/bin/a\n"
    assert store.build([b.drv_path]).built == []
    assert store.build([b.outputs["out"]]).built == []


def test_changing_an_input_rebuilds_exactly_its_dependents(store, make) -> None:
    a = make("a", "echo a > $out")
    side = make("side", "echo side > $out")
    b = make("b", "cat $dep0 $dep1 > $out", deps=(a, side))
    store.build([b.drv_path])
    a2 = make("a", "echo a2 > $out")
    b2 = make("b", "cat $dep0 $dep1 > $out", deps=(a2, side))
    assert store.build([b2.drv_path]).built == [a2.drv_path, b2.drv_path]
    assert read(store, b2.outputs["out"]) == "a2\nside\n"


def test_references_are_found_by_scanning(store, make, busybox) -> None:
    runtime = make("runtime", "echo lib > $out")
    build_only = make("build-only", "echo tool > $out")
    app = make("app", "mkdir $out; cat $dep1 > $out/from-tool; "
               "echo $dep0 > $out/uses-runtime; ln -s $out/uses-runtime $out/self",
               deps=(runtime, build_only))
    store.build([app.drv_path])
    out = app.outputs["out"]
    assert store.references(out) == {runtime.outputs["out"], out}
    assert store.closure([out]) == {out, runtime.outputs["out"]}
    assert busybox not in store.closure([out])


def test_hash_split_across_read_chunks_is_found(store, make) -> None:
    lib = make("lib", "echo lib > $out")
    # Put the path so that it straddles the scanner's 1 MiB chunk boundary.
    app = make("app", "head -c 1048570 /dev/zero > $out; echo -n $dep0 >> $out", deps=(lib,))
    store.build([app.drv_path])
    assert store.references(app.outputs["out"]) == {lib.outputs["out"]}


def test_multiple_outputs_refer_to_each_other(store, make) -> None:
    drv = make("multi", "mkdir $out $dev $bin; echo $out > $dev/lib; echo $dev > $bin/x",
               outputs=("out", "dev", "bin"))
    store.build([drv.drv_path])
    paths = drv.outputs
    assert store.references(paths["dev"]) == {paths["out"]}
    assert store.references(paths["bin"]) == {paths["dev"]}
    assert store.closure([paths["bin"]]) == set(paths.values())
    assert store.path_info(paths["bin"]).deriver == drv.drv_path


def test_building_one_output_path_builds_its_derivation(store, make) -> None:
    drv = make("multi", "mkdir $out $dev", outputs=("out", "dev"))
    store.build([drv.outputs["dev"]])
    assert all(store.is_valid(p) for p in drv.outputs.values())
    other = make("multi2", "mkdir $out $dev", outputs=("out", "dev"))
    report = store.build([other.drv_path + "^dev"])
    assert report.outputs[other.drv_path + "^dev"] == {"dev": other.outputs["dev"]}


def test_outputs_are_canonical(store, make) -> None:
    drv = make("canon", "mkdir -p $out/d; echo x > $out/d/f; echo y > $out/exe; "
               "chmod 4777 $out/exe; chmod 777 $out/d/f; touch -d 2030-01-01 $out/d/f")
    store.build([drv.drv_path])
    real = store.real_path(drv.outputs["out"])
    for path, mode in [(real, 0o555), (real + "/d", 0o555), (real + "/d/f", 0o555),
                       (real + "/exe", 0o555)]:
        st = os.lstat(path)
        assert stat.S_IMODE(st.st_mode) == mode, path
        assert st.st_mtime == 1
    assert not os.access(real + "/d", os.W_OK) or os.geteuid() == 0


def test_builder_environment_is_exact(store, make, busybox) -> None:
    drv = make("env", "env > $out", env={"flag": "1", "list": "a b"})
    store.build([drv.drv_path])
    env = dict(line.split("=", 1) for line in read(store, drv.outputs["out"]).splitlines())
    env.pop("PWD"), env.pop("SHLVL")     # set by the shell itself
    assert env == {
        "PATH": f"{busybox}/bin", "HOME": "/homeless-shelter", "NIX_BUILD_CORES": str(
            os.cpu_count()), "SOURCE_DATE_EPOCH": "1", "TZ": "UTC", "NDX_BUILD_TOP": "/build",
        "TMPDIR": "/build", "name": "env", "system": "x86_64-linux",
        "builder": f"{busybox}/bin/sh", "out": drv.outputs["out"], "flag": "1",
        "list": "a b"}


def test_pass_as_file_and_placeholders(store, make) -> None:
    text = f"line one\nwritten to {placeholder('out')}\n"
    drv = make("paf", 'cp "$bigPath" $out; echo "$small" >> $out',
               env={"passAsFile": "big", "big": text, "small": placeholder("out")})
    store.build([drv.drv_path])
    out = drv.outputs["out"]
    assert read(store, out) == f"line one\nwritten to {out}\n{out}\n"


def test_args_get_placeholders_replaced(store, make, busybox) -> None:
    drv = make("args", "", args=("-c", f"echo {placeholder('out')} > $out"))
    store.build([drv.drv_path])
    assert read(store, drv.outputs["out"]) == drv.outputs["out"] + "\n"


def test_export_references_graph(store, make) -> None:
    lib = make("lib", "echo lib > $out")
    app = make("app", "echo $dep0 > $out", deps=(lib,))
    # The attribute holds the path itself (the evaluator turns `[ "graph" app ]` into it).
    image = make("image", "cp graph $out", deps=(app,),
                 env={"exportReferencesGraph": "graph " + app.outputs["out"]})
    store.build([image.drv_path])
    lib_out, app_out = lib.outputs["out"], app.outputs["out"]
    entries = {lib_out: f"{lib_out}\n\n0\n", app_out: f"{app_out}\n\n1\n{lib_out}\n"}
    assert read(store, image.outputs["out"]) == "".join(entries[p] for p in sorted(entries))


def test_failure_shows_the_log_tail_and_stores_nothing(store, make) -> None:
    drv = make("broken", "for i in $(seq 1 40); do echo line $i; done; mkdir $out; exit 3")
    with pytest.raises(BuildError) as info:
        store.build([drv.drv_path])
    message = str(info.value)
    assert "failed with exit code 3" in message
    assert "line 16" in message and "line 40" in message and "line 15\n" not in message
    assert f"ndx log {drv.drv_path}" in message
    assert not store.is_valid(drv.outputs["out"])
    assert not os.path.lexists(store.real_path(drv.outputs["out"]))
    with open(store.log_file(drv.drv_path)) as log:
        assert log.read().count("line ") == 40
    assert os.listdir(os.path.join(store.state_dir, "tmp")) == []


def test_missing_output_is_an_error(store, make) -> None:
    drv = make("lazy", "mkdir $out", outputs=("out", "dev"))
    with pytest.raises(BuildError, match=r"failed to produce output path .*\(output 'dev'\)"):
        store.build([drv.drv_path])
    assert not store.is_valid(drv.outputs["out"])


def test_special_files_are_refused(store, make) -> None:
    drv = make("fifo", "mkdir $out; mkfifo $out/pipe")
    with pytest.raises(BuildError, match="special file"):
        store.build([drv.drv_path])


def test_keep_failed_keeps_the_build_directory(store, make) -> None:
    drv = make("kept", "echo evidence > clue; exit 1")
    with pytest.raises(BuildError, match="build directory was kept in '([^']+)'") as info:
        store.build([drv.drv_path], BuildOptions(keep_failed=True))
    kept = str(info.value).split("kept in '")[1].split("'")[0]
    with open(os.path.join(kept, "clue")) as file:
        assert file.read() == "evidence\n"


def test_dependents_of_a_failure_are_not_built(store, make, recorder) -> None:
    bad = make("bad", "exit 1")
    top = make("top", "echo > $out", deps=(bad,))
    with pytest.raises(BuildError):
        store.build([top.drv_path], reporter=recorder)
    assert ("start", "top") not in recorder.events


def test_keep_going_builds_what_it_can(store, make) -> None:
    bad = make("bad", "exit 1")
    good = make("good", "echo > $out")
    with pytest.raises(BuildError):
        store.build([bad.drv_path, good.drv_path], BuildOptions(keep_going=True))
    assert store.is_valid(good.outputs["out"])


def test_check_passes_for_deterministic_builds(store, make) -> None:
    drv = make("same", "echo same > $out")
    store.build([drv.drv_path])
    assert store.build([drv.drv_path], BuildOptions(check=True)).built == [drv.drv_path]


def test_check_names_the_first_differing_file(store, make) -> None:
    drv = make("random", "mkdir -p $out/a; echo same > $out/a/1; "
               "head -c 16 /dev/urandom > $out/a/2; echo same > $out/b")
    store.build([drv.drv_path])
    with pytest.raises(BuildError, match=r"may not be deterministic.*a/2: contents differ"):
        store.build([drv.drv_path], BuildOptions(check=True))
    with pytest.raises(BuildError, match="not valid, so checking is not possible"):
        store.build([make("new", "echo > $out").drv_path], BuildOptions(check=True))


def test_reference_rules(store, make) -> None:
    lib = make("lib", "echo lib > $out")
    ok = make("ok", "echo $dep0 > $out", deps=(lib,),
              env={"allowedReferences": lib.outputs["out"]})
    store.build([ok.drv_path])
    bad = make("bad", "echo $dep0 > $out", deps=(lib,),
               env={"disallowedReferences": lib.outputs["out"]})
    with pytest.raises(BuildError, match="not allowed to refer"):
        store.build([bad.drv_path])
    none = make("none", "echo $dep0 > $out", deps=(lib,), env={"allowedReferences": ""})
    with pytest.raises(BuildError, match="allowedReferences"):
        store.build([none.drv_path])


def test_jobs_run_independent_builds_together(store, make, recorder) -> None:
    one = make("one", "sleep 1; echo > $out")
    two = make("two", "sleep 1; echo > $out")
    store.build([one.drv_path, two.drv_path], BuildOptions(jobs=2), recorder)
    assert [kind for kind, _ in recorder.events[:2]] == ["start", "start"]


def test_foreign_systems_are_refused(store, busybox) -> None:
    from ndx.evaluator.io import Derivation

    drv = store.instantiate(Derivation("arm", "aarch64-linux", f"{busybox}/bin/sh", (),
                                       {"name": "arm"}, input_srcs=frozenset([busybox])))
    with pytest.raises(BuildError, match="'aarch64-linux' derivation is required"):
        store.build([drv.drv_path])


def test_structured_attrs_go_to_files(store, make) -> None:
    import json
    import subprocess

    lib = make("lib", "echo lib > $out")
    attrs = {"name": "structured", "system": "x86_64-linux", "flags": ["-O2", "-g"],
             "opts": {"debug": True, "level": 3}, "where": placeholder("out"),
             "exportReferencesGraph": {"graph": [lib.outputs["out"]]}}
    drv = make("structured", "mkdir $out; cp $NIX_ATTRS_JSON_FILE $out/json; "
               "cp $NIX_ATTRS_SH_FILE $out/sh; env > $out/env", deps=(lib,),
               env={"__json": json.dumps(attrs)})
    store.build([drv.drv_path])
    out = drv.outputs["out"]
    data = json.loads(read(store, out + "/json"))
    assert data["outputs"] == {"out": out} and data["where"] == out
    assert data["flags"] == ["-O2", "-g"] and data["opts"] == {"debug": True, "level": 3}
    assert [entry["path"] for entry in data["graph"]] == [lib.outputs["out"]]
    assert "flags=" not in read(store, out + "/env")
    shell = subprocess.run(["bash", "-c", (f'. {store.real_path(out)}/sh; '
                            'echo "${flags[1]} ${opts[level]} ${outputs[out]}"')],
                           capture_output=True, text=True, check=True)
    assert shell.stdout == f"-g 3 {out}\n"
