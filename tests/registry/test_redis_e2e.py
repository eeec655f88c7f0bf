"""redis images and registries end to end, with real clients.

* `redisOnDebian` (examples/redis-generic.ndx), its Debian base replaced (`--arg
  debianBase 'pullImage { … }'`) by the test registry's debootstrap-made Debian, pinned by
  `ndx prefetch-image`: built by ndx-build, its first layers byte-identical to the base's,
  its config merged with Debian's, loaded into docker, answering PING as the redis user;
* a runAsRoot script on that base running the base's own useradd;
* `ndx push` of the redis images to the registry, then `skopeo copy`, `docker pull` and
  `podman pull` of them, which run and answer PING; a second push uploads no blob.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from ndx.stdlib.image.archive import Image, ImageArchive
from tests.builds import BIN, ROOT, Built, NdxBuilds, image_files, image_text, uid_of
from tests.engines import DockerEngine, Podman, skopeo, skopeo_inspect
from tests.redis_checks import check_redis

from .servers import FaultProxy, Registry

GENERIC = str(ROOT / "examples" / "redis-generic.ndx")
VERSION = "7.0.15"


def ndx(env: dict[str, str], *args: str) -> str:
    """Run the `ndx` command; its standard output."""
    proc = subprocess.run([str(BIN / "ndx"), *args], env=env, capture_output=True, text=True,
                          check=False, timeout=600)
    assert proc.returncode == 0, f"ndx {' '.join(args)} failed:\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def debian_pin(ndx_builds: NdxBuilds, registry: Registry,
               debian_on_registry: str) -> dict[str, object]:
    """What `ndx prefetch-image` prints for the registry's Debian: the arguments of
    pullImage that pin it."""
    out = ndx(ndx_builds.env, "prefetch-image", debian_on_registry, "--final-image-name",
              "debian", "--insecure-registry", registry.host, "--json")
    pin: dict[str, object] = json.loads(out)
    assert pin["imageName"] == f"{registry.host}/library/debian"
    assert (pin["finalImageName"], pin["finalImageTag"]) == ("debian", "bookworm")
    return pin


def pull_expression(pin: dict[str, object]) -> str:
    """`pullImage { … }` of `pin`, over plain HTTP (the test registry has no TLS)."""
    fields = {k: pin[k] for k in ("imageName", "imageDigest", "sha256", "finalImageName",
                                  "finalImageTag")}
    body = " ".join(f"{k} = {json.dumps(v)};" for k, v in fields.items())
    return f"pullImage {{ {body} tlsVerify = false; }}"


@pytest.fixture(scope="module")
def debian(ndx_builds: NdxBuilds, debian_pin: dict[str, object]) -> Built:
    """The base as pullImage stores it (the very derivation the example builds on)."""
    return ndx_builds.build("-E", pull_expression(debian_pin))


@pytest.fixture(scope="module")
def redis_on_debian(ndx_builds: NdxBuilds, debian_pin: dict[str, object]) -> Built:
    return ndx_builds.build(GENERIC, "-A", "redisOnDebian",
                            "--arg", "debianBase", pull_expression(debian_pin))


def read_image(archive: Path) -> Image:
    with ImageArchive(str(archive)) as opened:
        return opened.image()


def blob_digests(archive: Path, image: Image) -> list[str]:
    """The sha256 of each layer blob's bytes as stored in the archive."""
    digests = []
    with ImageArchive(str(archive)) as opened:
        for layer in image.layers:
            h = hashlib.sha256()
            with opened.open_blob(layer.digest) as blob:
                for chunk in iter(lambda: blob.read(1 << 20), b""):
                    h.update(chunk)
            digests.append("sha256:" + h.hexdigest())
    return digests


def test_redis_on_debian_keeps_the_base_layers_byte_for_byte(
        registry: Registry, debian_on_registry: str, debian: Built,
        redis_on_debian: Built) -> None:
    base, image = read_image(debian.path), read_image(redis_on_debian.path)
    # The registry's own record of the base: the diff IDs of its config.
    remote = skopeo_inspect(f"docker://{debian_on_registry}", config=True, tls_verify=False)
    remote_diff_ids = remote["rootfs"]["diff_ids"]  # type: ignore[index]
    assert [la.diff_id for la in base.layers] == remote_diff_ids
    n = len(base.layers)
    assert len(image.layers) == n + 1
    assert image.layers[:n] == base.layers
    assert blob_digests(redis_on_debian.path, image)[:n] == \
        blob_digests(debian.path, base) == [la.digest for la in base.layers]
    config = image.config_json
    assert config["rootfs"]["diff_ids"][:n] == remote_diff_ids
    # Merged as docker build merges: Debian's PATH stays, the rest is ours.
    section = config["config"]
    assert section["Env"] == base.config_json["config"]["Env"]
    assert section["Cmd"] == ["redis-server", "--protected-mode", "no"]
    assert (section["User"], section["WorkingDir"]) == ("redis", "/data")
    assert config["history"][:len(base.config_json["history"])] == \
        base.config_json["history"]


def test_redis_on_debian_serves_as_redis_next_to_debians_tools(
        dockerd: DockerEngine, redis_on_debian: Built) -> None:
    archive = redis_on_debian.path
    tag = f"redis-debian:{VERSION}"
    assert f"Loaded image: {tag}" in dockerd.load(archive)
    redis_uid = uid_of(archive, "redis")
    assert redis_uid != 0
    check_redis(dockerd.docker, tag, VERSION, uid=redis_uid)
    # Debian's users are kept; redis' links went through Debian's /bin -> usr/bin.
    passwd = image_text(archive, "etc/passwd")
    assert passwd.startswith("root:x:0:0:") and "\n_apt:" in passwd
    top = image_files(archive)
    assert top["bin"].issym() and top["bin"].linkname == "usr/bin"
    assert top["usr/bin/redis-server"].linkname.endswith(f"-redis-{VERSION}/bin/redis-server")
    out = dockerd.run(tag, "-c", "cat /etc/debian_version; command -v redis-server; id -un",
                      options=("--entrypoint", "/bin/bash"))
    version, where, user = out.split()
    assert version.startswith("12.") and where in ("/usr/bin/redis-server",
                                                   "/bin/redis-server") and user == "redis"


def test_run_as_root_can_use_the_base_images_own_tools(
        ndx_builds: NdxBuilds, debian_pin: dict[str, object]) -> None:
    expr = f"""buildImage {{
      name = "debian-tools"; tag = "1";
      fromImage = {pull_expression(debian_pin)};
      runAsRoot = ''
        /usr/sbin/useradd --system --no-create-home --shell /usr/sbin/nologin app
        /usr/bin/dpkg-query --show passwd > /etc/passwd-tools
      '';
    }}"""
    built = ndx_builds.build("-E", expr)
    image = read_image(built.path)
    base_layers = len(image.layers) - 1
    with ImageArchive(str(built.path)) as opened, \
            opened.open_layer(image.layers[-1]) as stream, \
            tarfile.open(fileobj=stream, mode="r|") as layer:
        names = {m.name.rstrip("/") for m in layer}
    assert base_layers >= 1
    assert "etc/passwd-tools" in names and "etc/passwd" in names
    assert not any(n.startswith(("usr/", "lib/", ".ndx-build")) for n in names), names
    assert image_text(built.path, "etc/passwd-tools").startswith("passwd\t1:4.13")
    assert any(line.startswith("app:x:") and line.endswith(":/usr/sbin/nologin")
               for line in image_text(built.path, "etc/passwd").splitlines())


# --- push, then pull with real clients ---------------------------------------------------------

@pytest.fixture(scope="module")
def redis_plain(ndx_builds: NdxBuilds) -> Built:
    return ndx_builds.build(GENERIC, "-A", "redisDocker_7_0_15")


@dataclass
class Pushed:
    """Both redis images pushed with `ndx push` through the proxy (which logs the requests
    and forwards them to the registry): their references on the registry itself, and
    what the proxy saw of the first push."""

    refs: dict[str, str]
    first_push: list[tuple[str, str, int]]


PUSHED_REPOS = {"plain": "ndx/redis", "debian": "ndx/redis-debian"}


def push_both(env: dict[str, str], proxy: FaultProxy, images: dict[str, Built]) -> None:
    for key, repo in PUSHED_REPOS.items():
        ndx(env, "push", str(images[key].path), f"docker://{proxy.host}/{repo}:{VERSION}",
            "--insecure-registry", proxy.host)


@pytest.fixture(scope="module")
def images(redis_plain: Built, redis_on_debian: Built) -> dict[str, Built]:
    return {"plain": redis_plain, "debian": redis_on_debian}


@pytest.fixture(scope="module")
def pushed(ndx_builds: NdxBuilds, fault_proxy: FaultProxy, registry: Registry,
           images: dict[str, Built]) -> Pushed:
    fault_proxy.clear()
    push_both(ndx_builds.env, fault_proxy, images)
    first = list(fault_proxy.log)
    fault_proxy.clear()
    return Pushed({k: f"{registry.host}/{repo}:{VERSION}" for k, repo in PUSHED_REPOS.items()},
                  first)


def blob_requests(log: list[tuple[str, str, int]], method: str) -> list[str]:
    return [p.split("?")[0] for m, p, _ in log if m == method and "/blobs/" in p]


def test_a_second_push_uploads_no_blob(ndx_builds: NdxBuilds, fault_proxy: FaultProxy,
                                       pushed: Pushed, images: dict[str, Built]) -> None:
    # Every blob (layers and config) of both images, once each.
    expected = sum(len(read_image(b.path).layers) + 1 for b in images.values())
    first_put = blob_requests(pushed.first_push, "PUT")
    first_mounts = [p for m, p, _ in pushed.first_push if m == "POST" and "mount=" in p]
    assert first_put and len(first_put) + len(first_mounts) == expected
    fault_proxy.clear()
    push_both(ndx_builds.env, fault_proxy, images)
    second = list(fault_proxy.log)
    assert blob_requests(second, "PUT") == blob_requests(second, "PATCH") == []
    assert blob_requests(second, "POST") == []
    found = [p for m, p, s in second if m == "HEAD" and "/blobs/" in p and s == 200]
    assert len(found) == expected


def test_skopeo_copies_what_ndx_pushed(pushed: Pushed, redis_plain: Built,
                                       tmp_path: Path) -> None:
    skopeo("copy", "--quiet", "--insecure-policy", "--src-tls-verify=false",
           f"docker://{pushed.refs['plain']}", f"docker-archive:{tmp_path}/copy.tar")
    ours = skopeo_inspect(f"docker-archive:{redis_plain.path}")
    theirs = skopeo_inspect(f"docker-archive:{tmp_path}/copy.tar")
    assert ours["Layers"] == theirs["Layers"]  # the same diff IDs: the same files
    files = image_files(tmp_path / "copy.tar")
    assert any(p.endswith(f"-redis-{VERSION}/bin/redis-server") for p in files)


@pytest.mark.parametrize("key", ["plain", "debian"])
def test_docker_pulls_and_runs_what_ndx_pushed(dockerd: DockerEngine, pushed: Pushed,
                                               images: dict[str, Built], key: str) -> None:
    ref = pushed.refs[key]
    dockerd.docker("pull", ref)
    check_redis(dockerd.docker, ref, VERSION, uid=uid_of(images[key].path, "redis"))


def test_podman_pulls_and_runs_what_ndx_pushed(podman: Podman, pushed: Pushed,
                                               redis_plain: Built) -> None:
    ref = pushed.refs["plain"]
    podman.podman("pull", "--tls-verify=false", ref)
    check_redis(podman.podman, ref, VERSION, uid=uid_of(redis_plain.path, "redis"))
