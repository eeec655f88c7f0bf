"""builtin:buildImage through the real store: a hello-world compiled by a derivation becomes
an image (cached like any derivation), its closure comes from the store database, and the
archive is byte-identical from stores in different places."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ndx.evaluator.io import Derivation
from ndx.stdlib.image.builtin import image_attrs
from ndx.stdlib.image.users import SHADOW_SETUP
from ndx.stdlib.store.disk import DiskStore
from ndx.stdlib.store.errors import BuildError

from .helpers import layer_file, layer_members, read_image
from .storetree import HELLO_C

HOST = "/usr /bin /lib /lib64"


def _derivation(store: DiskStore, name: str, script: str, *, srcs=(), deps=()):
    attrs = {"name": name, "system": "x86_64-linux", "builder": "/bin/sh",
             "PATH": "/usr/bin:/bin", "__impureHostDeps": HOST}
    for i, src in enumerate(srcs):
        attrs[f"src{i}"] = src
    input_drvs = {}
    for i, dep in enumerate(deps):
        attrs[f"dep{i}"] = dep.outputs["out"]
        input_drvs[dep.drv_path] = frozenset(["out"])
    return store.instantiate(Derivation(name, "x86_64-linux", "/bin/sh", ("-ec", script), attrs,
                                        ("out",), input_drvs, frozenset(srcs)))


def _hello(store: DiskStore):
    src = store.add_text("hello.c", HELLO_C, [])
    helper = store.add_text("build-helper.sh", "echo compiling\n", [])
    return _derivation(store, "hello-1.0",
                       'sh "$src1"; mkdir -p "$out/bin"; '
                       'musl-gcc -static -Os -s -o "$out/bin/hello" "$src0"',
                       srcs=(src, helper))


def _image(store: DiskStore, spec: dict, deps=(), srcs=()):
    attrs = image_attrs(spec)
    input_drvs = {d.drv_path: frozenset(["out"]) for d in deps}
    return store.instantiate(Derivation(attrs["name"], "builtin", attrs["builder"], (), attrs,
                                        ("out",), input_drvs, frozenset(srcs)))


@pytest.fixture
def disk_store(tmp_path):
    store = DiskStore(str(tmp_path / "store"))
    yield store
    store.close()


def test_hello_derivation_becomes_an_image_docker_runs(dockerd, disk_store) -> None:
    store = disk_store
    hello = _hello(store)
    out = hello.outputs["out"]
    image = _image(store, {"name": "ndx-built-hello", "copyToRoot": [out],
                           "config": {"Cmd": [f"{out}/bin/hello"]}}, deps=[hello])
    report = store.build([image.drv_path])
    assert image.drv_path in report.built
    result = store.real_path(image.outputs["out"])
    tag = image.outputs["out"].rsplit("/", 1)[1][:32]   # the default tag: the output hash
    assert f"Loaded image: ndx-built-hello:{tag}" in dockerd.load(result)
    assert dockerd.run(f"ndx-built-hello:{tag}") == "Hello from ndx!\n"
    # Only the runtime closure: hello itself, not its source, nor the build helper.
    members = layer_members(result)
    paths = {"/" + "/".join(n.split("/")[:3]) for n in members if n.count("/") >= 2
             and n.startswith("ndx/store/")}
    assert paths == {out}
    assert not any("gcc" in n or "build-helper" in n or "hello.c" in n for n in members)
    # A no-op rebuild: the output is valid, nothing runs.
    assert store.build([image.drv_path]).built == []


def test_archive_identical_from_stores_in_different_places(tmp_path) -> None:
    digests = []
    for where in ("a", "b/c"):
        with DiskStore(str(tmp_path / where / "store")) as store:
            hello = _hello(store)
            image = _image(store, {"name": "h", "tag": "1", "copyToRoot": [hello.outputs["out"]]},
                           deps=[hello])
            store.build([image.drv_path])
            with open(store.real_path(image.outputs["out"]), "rb") as f:
                digests.append(hashlib.sha256(f.read()).hexdigest())
    assert digests[0] == digests[1]


def test_closure_follows_config_and_script_references(disk_store, tmp_path) -> None:
    store = disk_store
    busybox_src = tmp_path / "bb" / "bin"
    busybox_src.mkdir(parents=True)
    (busybox_src / "busybox").write_bytes(Path("/bin/busybox").read_bytes())
    (busybox_src / "busybox").chmod(0o555)
    (busybox_src / "sh").symlink_to("busybox")
    busybox = store.add_path(str(tmp_path / "bb"), name="busybox")
    motd = store.add_text("motd", "welcome\n", [])
    conf = store.add_text("app.conf", "port 6379\n", [])
    unused = store.add_text("unused", "not in the image\n", [])
    spec = {"name": "refs", "tag": "1", "copyToRoot": [busybox],
            "config": {"Cmd": ["/bin/sh", "-c", f"cat {conf}"]},
            "runAsRoot": SHADOW_SETUP + f"ln -s {motd} /etc/motd\ntest -f {unused}\n"}
    image = _image(store, spec, srcs=(busybox, motd, conf, unused))
    store.build([image.drv_path])
    result = store.real_path(image.outputs["out"])
    members = layer_members(result)
    paths = {"/" + "/".join(n.split("/")[:3]) for n in members if n.count("/") >= 2
             and n.startswith("ndx/store/")}
    assert paths == {busybox, motd, conf}
    assert members["etc/motd"].linkname == motd
    assert json.loads(read_image(result).config)["config"]["Cmd"][2] == f"cat {conf}"
    assert layer_file(result, motd.lstrip("/")) == b"welcome\n"


def test_extra_commands_through_the_store(disk_store) -> None:
    store = disk_store
    hello = _hello(store)
    image = _image(store, {"name": "extra", "tag": "1", "copyToRoot": [hello.outputs["out"]],
                           "extraCommands": "mkdir -p tmp && chmod 1777 tmp && id -u > who"},
                   deps=[hello])
    store.build([image.drv_path])
    members = layer_members(store.real_path(image.outputs["out"]))
    assert members["tmp"].mode == 0o1777 and members["who"].isfile()


def test_bad_arguments_fail_the_build_with_a_clear_message(disk_store) -> None:
    image = _image(disk_store, {"name": "x", "confg": {}})
    with pytest.raises(BuildError, match="unknown argument 'confg'.*did you mean 'config'"):
        disk_store.build([image.drv_path])
