"""Layered redis images from the package set (redis and busybox built from source in the
session store): buildLayeredImage of redis + busybox runs in docker and answers PING; two
images of overlapping closures (redis 7.0.15 and 6.0.16, each with busybox) share the
busybox layer byte for byte; streamLayeredImage of redis piped into `docker load` runs."""

from __future__ import annotations

import subprocess

import pytest

from tests.builds import Built, NdxBuilds
from tests.engines import DockerEngine
from tests.redis_checks import check_redis

from .layers import layers_by_content

REDIS = {"7.0.15": "pkgs.redis", "6.0.16": '(pkgs.redis.overrideAttrs { version = "6.0.16"; })'}
#: The uid redis runs as: the image has no user database, so a number.
UID = 999


def layered_redis(builder: str, name: str, version: str) -> str:
    """A `dockerTools.<builder>` expression of redis `version` and busybox."""
    return f"""let pkgs = import <ndx> {{ }}; in pkgs.dockerTools.{builder} {{
      name = "{name}"; tag = "{version}";
      contents = [ {REDIS[version]} pkgs.busybox ];
      fakeRootCommands = "mkdir -p ./data; chown {UID}:{UID} ./data";
      config = {{
        Cmd = [ "redis-server" "--protected-mode" "no" ];
        User = "{UID}:{UID}";
        WorkingDir = "/data";
      }};
    }}"""


@pytest.fixture(scope="module")
def layered(ndx_builds: NdxBuilds) -> dict[str, Built]:
    """buildLayeredImage of redis + busybox, for both versions."""
    return {v: ndx_builds.build("-E", layered_redis("buildLayeredImage", "redis-layered", v))
            for v in REDIS}


def test_layered_redis_with_busybox_runs_in_docker(dockerd: DockerEngine,
                                                   layered: dict[str, Built]) -> None:
    built = layered["7.0.15"]
    # One layer per store path (in order of popularity: a tie here), then the rest.
    layers = list(layers_by_content(built.path))
    assert sorted(layers[:2]) == ["busybox-1.35.0", "redis-7.0.15"]
    assert layers[2:] == ["customisation"]
    assert "Loaded image: redis-layered:7.0.15" in dockerd.load(built.path)
    check_redis(dockerd.docker, "redis-layered:7.0.15", "7.0.15", uid=UID)
    # busybox's applets are linked into /bin next to redis'.
    out = dockerd.run("redis-layered:7.0.15", "-c", "ls -ln -d /data; command -v redis-cli",
                      options=("--entrypoint", "sh"))
    assert out.split()[2:4] == [str(UID), str(UID)]
    assert out.split()[-1] == "/bin/redis-cli"


def test_overlapping_closures_share_identical_layers(dockerd: DockerEngine,
                                                     layered: dict[str, Built]) -> None:
    new, old = (layers_by_content(layered[v].path) for v in ("7.0.15", "6.0.16"))
    assert new["busybox-1.35.0"] == old["busybox-1.35.0"]
    assert new["redis-7.0.15"] != old["redis-6.0.16"]
    assert old["redis-6.0.16"] not in new.values()
    assert "Loaded image: redis-layered:6.0.16" in dockerd.load(layered["6.0.16"].path)
    check_redis(dockerd.docker, "redis-layered:6.0.16", "6.0.16", uid=UID)


def test_streamed_layered_redis_piped_into_docker_load_runs(
        ndx_builds: NdxBuilds, dockerd: DockerEngine, layered: dict[str, Built]) -> None:
    script = ndx_builds.build("-E", layered_redis("streamLayeredImage", "redis-streamed",
                                                  "7.0.15"))
    piped = subprocess.run(f"'{script.path}' | docker load", shell=True, capture_output=True,
                           text=True, env=dict(ndx_builds.env, DOCKER_HOST=dockerd.host),
                           check=False, timeout=600)
    assert piped.returncode == 0, piped.stderr
    assert "Loaded image: redis-streamed:7.0.15" in piped.stdout
    check_redis(dockerd.docker, "redis-streamed:7.0.15", "7.0.15", uid=UID)
    # The stream's store-path layers are the stored image's, byte for byte.
    streamed, stored = (dockerd.docker("image", "inspect", "-f", "{{json .RootFS.Layers}}",
                                       ref).stdout.decode().strip()
                        for ref in ("redis-streamed:7.0.15", "redis-layered:7.0.15"))
    assert streamed.split(",")[:2] == stored.split(",")[:2]
    assert streamed.count(",") == stored.count(",") == 2
