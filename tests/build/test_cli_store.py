"""`ndx store …` and `ndx log` as commands, the live status line, and `realise` (what
import-from-derivation uses)."""

from __future__ import annotations

import io

from click.testing import CliRunner
from ndx.cli.main import cli
from ndx.stdlib.build.progress import ConsoleReporter


def invoke(*args: str):
    from ndx.cli import commands  # noqa: F401 - registers the subcommands

    return CliRunner().invoke(cli, list(args))


def built(store, make, tmp_path):
    lib = make("lib", "echo library > $out")
    app = make("app", "mkdir $out; echo $dep0 > $out/uses", deps=(lib,))
    store.build([app.drv_path])
    link = store.add_root(str(tmp_path / "result"), app.outputs["out"])
    return lib.outputs["out"], app.outputs["out"], link


def test_path_info_sizes_and_closure(store, make, tmp_path) -> None:
    lib, app, link = built(store, make, tmp_path)
    size = {p: store.path_info(p).nar_size for p in (lib, app)}
    run = invoke("store", "path-info", "--store", store.physical_dir, "-r", "-s", "-S", link)
    assert run.exit_code == 0, run.output
    assert run.output.splitlines() == [
        f"{lib}\t{size[lib]}\t{size[lib]}",
        f"{app}\t{size[app]}\t{size[app] + size[lib]}"]
    human = invoke("store", "path-info", "--store", store.physical_dir, "-s", "-h", app)
    assert human.output.strip() == f"{app}\t{size[app]} B"
    bad = invoke("store", "path-info", "--store", store.physical_dir,
                 "/ndx/store/00000000000000000000000000000000-x")
    assert bad.exit_code == 1 and "is not a valid store path" in bad.output


def test_delete_and_gc_commands(store, make, tmp_path) -> None:
    lib, _app, _link = built(store, make, tmp_path)
    store.close()
    refused = invoke("store", "delete", "--store", store.physical_dir, lib)
    assert refused.exit_code == 1 and "still referenced by" in refused.output
    dry = invoke("store", "gc", "--dry-run", "--store", store.physical_dir)
    assert dry.exit_code == 0 and "would be deleted" in dry.output
    gc = invoke("store", "gc", "--store", store.physical_dir)
    assert gc.exit_code == 0 and "store paths deleted" in gc.output
    verify = invoke("store", "verify", "--check-contents", "--store", store.physical_dir)
    assert verify.exit_code == 0 and "checked 2 store paths" in verify.output


def test_verify_command_fails_on_damage(store, make, tmp_path) -> None:
    lib, _app, _link = built(store, make, tmp_path)
    import os

    real = store.real_path(lib)
    os.chmod(real, 0o644)
    with open(real, "w") as file:
        file.write("damaged\n")
    run = invoke("store", "verify", "--check-contents", "--store", store.physical_dir)
    assert run.exit_code == 1 and "was modified" in run.output


def test_log_command(store, make, tmp_path) -> None:
    _lib, _app, _link = built(store, make, tmp_path)
    noisy = make("noisy", "echo making noise; echo > $out")
    store.build([noisy.drv_path])
    run = invoke("log", "--store", store.physical_dir, noisy.outputs["out"])
    assert run.exit_code == 0 and run.output == "making noise\n"
    by_drv = invoke("log", "--store", store.physical_dir, noisy.drv_path)
    assert by_drv.output == "making noise\n"


def test_status_line_is_drawn_only_on_terminals() -> None:
    stream = io.StringIO()
    live = ConsoleReporter(stream, live=True)
    live.planned(7, 1)
    live.started("/ndx/store/x-redis.drv", "redis-7.0.15")
    live.fetched(2_202_010)
    for _ in range(3):
        live.finished("/ndx/store/y.drv", "y", True)
    assert live.status() == "[3/7 built, 1 running: redis-7.0.15, 2.1 MiB fetched]"
    live.log_line("redis-7.0.15", "CC server.o")
    text = stream.getvalue()
    assert "\r\x1b[K[3/7 built, 1 running: redis-7.0.15, 2.1 MiB fetched]" in text
    assert "\r\x1b[Kredis-7.0.15> CC server.o\n" in text
    plain = io.StringIO()
    quiet = ConsoleReporter(plain, live=False)
    quiet.planned(1, 0)
    quiet.log_line("x", "line")
    assert plain.getvalue() == "x> line\n"
    silent = io.StringIO()
    ConsoleReporter(silent, live=False, quiet=True).log_line("x", "line")
    assert silent.getvalue() == ""


def test_realise_builds_derivation_outputs(store, make) -> None:
    drv = make("ifd", "echo imported > $out")
    store.realise([drv.outputs["out"] + "/anything-inside"])
    assert store.is_valid(drv.outputs["out"])
