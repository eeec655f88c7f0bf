"""Images built by ndx, loaded and run by real engines: Docker (a private dockerd), podman,
and described by skopeo. These tests never skip: a missing engine is a failure."""

from __future__ import annotations

import json

import pytest

from ndx.stdlib.image.build import ImageSpec, build_image
from ndx.stdlib.image.users import SHADOW_SETUP
from tests.engines import skopeo_inspect

from .storetree import FakeStore


def _busybox(store: FakeStore) -> str:
    with open("/bin/busybox", "rb") as f:
        data = f.read()
    return store.add("busybox", {"bin/busybox": data}, modes={"bin/busybox": 0o555},
                     links={name: "busybox" for name in
                            ("bin/sh", "bin/id", "bin/cat", "bin/ls", "bin/stat")})


@pytest.fixture(scope="module")
def hello_image(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hello")
    store = FakeStore(tmp / "store")
    hello = store.add_hello(tmp)
    out = tmp / "hello.tar"
    image = build_image(ImageSpec(name="ndx-hello", tag="1.0", closure=[hello],
                                  copy_to_root=[hello], config={"Cmd": ["/bin/hello"]}),
                        store.view, str(out))
    return out, image


def test_docker_runs_the_hello_world_image(dockerd, hello_image) -> None:
    out, image = hello_image
    assert "Loaded image: ndx-hello:1.0" in dockerd.load(out)
    assert dockerd.run("ndx-hello:1.0") == "Hello from ndx!\n"
    inspected = json.loads(dockerd.docker("image", "inspect", "ndx-hello:1.0").stdout)[0]
    assert inspected["Id"] == image.config_digest
    assert inspected["RootFS"]["Layers"] == [la.diff_id for la in image.layers]


def test_run_as_root_user_runs_the_cmd(dockerd, tmp_path) -> None:
    store = FakeStore(tmp_path / "store")
    busybox = _busybox(store)
    script = SHADOW_SETUP + """
groupadd -r redis
useradd -r -g redis -d /data -M redis
mkdir /data
chown redis:redis /data
"""
    out = tmp_path / "redis.tar"
    build_image(ImageSpec(name="ndx-users", tag="1", closure=[busybox], copy_to_root=[busybox],
                          run_as_root=script,
                          config={"Cmd": ["/bin/sh", "-c", "id; stat -c '%U:%G %a' /data"],
                                  "User": "redis", "WorkingDir": "/data"}),
                store.view, str(out))
    dockerd.load(out)
    lines = dockerd.run("ndx-users:1").splitlines()
    assert lines[0].startswith("uid=999(redis) gid=999(redis)")
    assert lines[1] == "redis:redis 755"


def test_image_on_a_base_keeps_its_layers(dockerd, tmp_path) -> None:
    store = FakeStore(tmp_path / "store")
    busybox = _busybox(store)
    base_out = tmp_path / "base.tar"
    base = build_image(ImageSpec(name="ndx-base", tag="1", closure=[busybox],
                                 copy_to_root=[busybox],
                                 users=[{"name": "app", "uid": 1000, "home": "/home/app"}],
                                 config={"Env": ["GREETING=hi"]}), store.view, str(base_out))
    hello = store.add_hello(tmp_path)
    out = tmp_path / "top.tar"
    top = build_image(ImageSpec(name="ndx-top", tag="1", closure=[hello], copy_to_root=[hello],
                                from_image=str(base_out),
                                config={"Cmd": ["/bin/sh", "-c", "echo $GREETING; hello; id"],
                                        "User": "app"}),
                      store.view, str(out))
    dockerd.load(base_out)
    dockerd.load(out)
    layers = json.loads(dockerd.docker("image", "inspect", "ndx-top:1").stdout)[0]
    assert layers["RootFS"]["Layers"][:1] == [base.layers[0].diff_id]
    assert len(top.layers) == 2
    lines = dockerd.run("ndx-top:1").splitlines()
    assert lines[:2] == ["hi", "Hello from ndx!"]
    assert lines[2].startswith("uid=1000(app) gid=1000(app)")


def test_podman_and_skopeo_accept_the_archive(podman, hello_image, tmp_path) -> None:
    out, image = hello_image
    assert "ndx-hello:1.0" in podman.load(out)
    assert podman.run("docker.io/library/ndx-hello:1.0") == "Hello from ndx!\n"
    info = skopeo_inspect(f"docker-archive:{out}")
    assert info["Digest"] and info["Layers"] == [la.diff_id for la in image.layers]
    assert info["Architecture"] == "amd64" and info["Os"] == "linux"
    config = skopeo_inspect(f"docker-archive:{out}", config=True)
    assert config["config"] == {"Cmd": ["/bin/hello"]}
    oci = skopeo_inspect(f"oci-archive:{out}")
    assert oci["Layers"] == [la.digest for la in image.layers]


def test_podman_runs_a_zstd_image(podman, tmp_path) -> None:
    store = FakeStore(tmp_path / "store")
    hello = store.add_hello(tmp_path)
    out = tmp_path / "z.tar"
    image = build_image(ImageSpec(name="ndx-zstd", tag="1", closure=[hello],
                                  copy_to_root=[hello], compressor="zstd",
                                  config={"Entrypoint": ["/bin/hello"]}), store.view, str(out))
    assert image.layers[0].media_type.endswith("+zstd")
    podman.load(out)
    assert podman.run("docker.io/library/ndx-zstd:1") == "Hello from ndx!\n"


def test_from_image_reads_what_docker_save_wrote(dockerd, tmp_path) -> None:
    """A base image exported by `docker save` (the legacy layout, uncompressed layers) is a
    fromImage like any other."""
    store = FakeStore(tmp_path / "store")
    busybox = _busybox(store)
    base_out = tmp_path / "base.tar"
    build_image(ImageSpec(name="ndx-saved-base", tag="1", closure=[busybox],
                          copy_to_root=[busybox], config={"Env": ["FROM_BASE=yes"]}),
                store.view, str(base_out))
    dockerd.load(base_out)
    saved = tmp_path / "saved.tar"
    saved.write_bytes(dockerd.docker("save", "ndx-saved-base:1").stdout)
    hello = store.add_hello(tmp_path)
    out = tmp_path / "top.tar"
    top = build_image(ImageSpec(name="ndx-on-saved", tag="1", closure=[hello],
                                copy_to_root=[hello], from_image=str(saved),
                                from_image_name="ndx-saved-base", from_image_tag="1",
                                run_as_root="mkdir -p /srv && echo $FROM_BASE > /srv/x || true",
                                config={"Cmd": ["/bin/sh", "-c", "echo $FROM_BASE; hello"]}),
                      store.view, str(out))
    assert len(top.layers) == 2
    dockerd.load(out)
    assert dockerd.run("ndx-on-saved:1").splitlines() == ["yes", "Hello from ndx!"]


def test_full_config_and_uncompressed_layers_in_docker(dockerd, tmp_path) -> None:
    store = FakeStore(tmp_path / "store")
    busybox = _busybox(store)
    out = tmp_path / "cfg.tar"
    build_image(ImageSpec(
        name="ndx-config", tag="1", closure=[busybox], copy_to_root=[busybox], compressor="none",
        config={"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo $GREETING from $(pwd)"],
                "Env": {"GREETING": "hi"}, "WorkingDir": "/tmp", "ExposedPorts": ["6379/tcp"],
                "Volumes": {"/data": {}}, "Labels": {"org.example": "yes"},
                "StopSignal": "SIGINT", "User": "0:0",
                "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30_000_000_000}}),
        store.view, str(out))
    dockerd.load(out)
    config = json.loads(dockerd.docker("image", "inspect", "ndx-config:1").stdout)[0]["Config"]
    assert config["Env"] == ["GREETING=hi"]
    assert config["ExposedPorts"] == {"6379/tcp": {}} and config["Volumes"] == {"/data": {}}
    assert config["Labels"] == {"org.example": "yes"} and config["StopSignal"] == "SIGINT"
    assert config["Healthcheck"]["Test"] == ["CMD", "true"]
    assert dockerd.run("ndx-config:1", options=["--tmpfs", "/tmp"]) == "hi from /tmp\n"
