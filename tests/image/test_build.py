"""build_image without an engine: what goes into the layer, reproducibility, arguments."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile

import pytest

from ndx.stdlib.image.build import ImageSpec, build_image
from ndx.stdlib.image.errors import ImageError
from ndx.stdlib.image.rootfs import base_directory_links
from ndx.stdlib.image.users import SHADOW_SETUP

from .helpers import layer_file, layer_members
from .storetree import FakeStore


def _busybox(store: FakeStore) -> str:
    with open("/bin/busybox", "rb") as f:
        data = f.read()
    return store.add("busybox", {"bin/busybox": data}, modes={"bin/busybox": 0o555},
                     links={"bin/sh": "busybox", "bin/id": "busybox", "bin/cat": "busybox",
                            "bin/ls": "busybox"})


def test_hello_image_layout(store, tmp_path) -> None:
    hello = store.add_hello(tmp_path)
    out = tmp_path / "img.tar"
    image = build_image(ImageSpec(name="hello", tag="1.0", closure=[hello], copy_to_root=[hello],
                                  config={"Cmd": ["/bin/hello"]}), store.view, str(out))
    members = layer_members(out)
    rel = hello.lstrip("/")
    assert set(members) == {"bin", "bin/hello", "ndx", "ndx/store", rel, f"{rel}/bin",
                            f"{rel}/bin/hello"}
    assert members["bin/hello"].issym() and members["bin/hello"].linkname == f"{hello}/bin/hello"
    config = image.config_json
    assert config["config"] == {"Cmd": ["/bin/hello"]}
    assert config["created"] == "1970-01-01T00:00:01Z"
    assert config["os"] == "linux" and config["architecture"] == "amd64"
    assert config["rootfs"]["diff_ids"] == [image.layers[0].diff_id]
    assert image.repo_tags == ("hello:1.0",)


def test_archive_is_byte_identical_from_stores_in_different_places(tmp_path) -> None:
    digests = []
    for where in ("one", "two/deeper"):
        store = FakeStore(tmp_path / where / "store")
        hello = store.add_hello(tmp_path / where)
        data = store.add("data", {"share/motd": f"hello {hello}\n"})
        out = tmp_path / where / "img.tar"
        build_image(ImageSpec(name="hello", tag="1.0", closure=[hello, data],
                              copy_to_root=[hello, data], config={"Cmd": ["/bin/hello"]}),
                    store.view, str(out))
        digests.append(out.read_bytes())
    assert digests[0] == digests[1]


def test_only_the_runtime_closure_is_in_the_layer(store, tmp_path) -> None:
    """Build-time tools — a compiler in the store, the script's own tools, the host's
    shadow tools and busybox used by runAsRoot — do not reach the image."""
    hello = store.add_hello(tmp_path)
    toolchain = store.add("gcc-wrapper-12", {"bin/cc": "#!/bin/sh\nexec gcc \"$@\"\n"},
                          modes={"bin/cc": 0o555})
    helper = store.add("setup-tools", {"bin/mark": "#!/bin/sh\necho built > /etc/built\n"},
                       modes={"bin/mark": 0o555})
    out = tmp_path / "img.tar"
    build_image(ImageSpec(name="hello", tag="1.0", closure=[hello], copy_to_root=[hello],
                          script_paths=[helper],
                          run_as_root=SHADOW_SETUP + f"useradd -r app\nsh {helper}/bin/mark\n",
                          config={"Cmd": ["/bin/hello"]}), store.view, str(out))
    members = layer_members(out)
    store_paths = {"/" + "/".join(n.split("/")[:3]) for n in members
                   if n.startswith("ndx/store/") and n.count("/") >= 2}
    assert store_paths == {hello}
    assert toolchain.lstrip("/") not in members and helper.lstrip("/") not in members
    assert not [n for n in members if n.startswith((".ndx-build", "dev"))]
    names = {os.path.basename(n) for n in members}
    assert not names & {"useradd", "groupadd", "busybox", "gcc", "cc", "sh"}
    assert layer_file(out, "etc/built") == b"built\n"
    assert b"app:x:" in layer_file(out, "etc/passwd")


def test_run_as_root_records_owners_and_modes(store, tmp_path) -> None:
    busybox = _busybox(store)
    out = tmp_path / "img.tar"
    script = SHADOW_SETUP + """
groupadd -r redis
useradd -r -g redis -d /data -M redis
mkdir -p /data /var/run/redis
chown redis:redis /data
chmod 0700 /data
chown 1234:5678 /var/run/redis
"""
    build_image(ImageSpec(name="redis", tag="t", closure=[busybox], copy_to_root=[busybox],
                          run_as_root=script), store.view, str(out))
    members = layer_members(out)
    passwd = layer_file(out, "etc/passwd").decode()
    uid = int(next(line for line in passwd.splitlines() if line.startswith("redis:"))
              .split(":")[2])
    assert (members["data"].uid, members["data"].gid, members["data"].mode) == \
        (uid, uid, 0o700)
    assert (members["var/run/redis"].uid, members["var/run/redis"].gid) == (1234, 5678)
    assert members["etc/shadow"].mode == 0o640
    assert members["bin/sh"].uid == 0


def test_from_image_keeps_base_layers_and_config(store, tmp_path) -> None:
    busybox = _busybox(store)
    base_out = tmp_path / "base.tar"
    base = build_image(ImageSpec(name="base", tag="1", closure=[busybox], copy_to_root=[busybox],
                                 users=[{"name": "app", "uid": 1000, "home": "/home/app"}],
                                 config={"Env": ["A=1", "B=2"], "WorkingDir": "/home/app"}),
                       store.view, str(base_out))
    hello = store.add_hello(tmp_path)
    out = tmp_path / "img.tar"
    image = build_image(ImageSpec(name="top", tag="1", closure=[hello], copy_to_root=[hello],
                                  from_image=str(base_out),
                                  config={"Env": ["B=3"], "Cmd": ["/bin/hello"]}),
                        store.view, str(out))
    assert image.layers[:1] == base.layers and len(image.layers) == 2
    config = image.config_json
    assert config["config"] == {"Env": ["A=1", "B=3"], "WorkingDir": "/home/app",
                                "Cmd": ["/bin/hello"]}
    assert len(config["history"]) == 2


def test_from_image_merges_the_config_like_docker_build(store, tmp_path) -> None:
    busybox = _busybox(store)
    base_out = tmp_path / "base.tar"
    build_image(ImageSpec(name="base", tag="1", closure=[busybox], copy_to_root=[busybox],
                          config={"Cmd": ["/bin/sh"], "ExposedPorts": {"80/tcp": {}},
                                  "Labels": {"a": "base", "b": "base"}}),
                store.view, str(base_out))
    hello = store.add_hello(tmp_path)
    image = build_image(ImageSpec(name="top", tag="1", closure=[hello], copy_to_root=[hello],
                                  from_image=str(base_out),
                                  config={"Entrypoint": ["/bin/hello"],
                                          "ExposedPorts": {"6379/tcp": {}},
                                          "Labels": {"b": "ours"}}),
                        store.view, str(tmp_path / "img.tar"))
    config = image.config_json["config"]
    # An Entrypoint alone clears the base's Cmd, as a Dockerfile ENTRYPOINT does: the
    # base's `/bin/sh` would otherwise become the entrypoint's argument.
    assert "Cmd" not in config and config["Entrypoint"] == ["/bin/hello"]
    assert config["ExposedPorts"] == {"80/tcp": {}, "6379/tcp": {}}
    assert config["Labels"] == {"a": "base", "b": "ours"}


@pytest.mark.parametrize("script", [None, "test -L /bin && /bin/hello > /greeting\n"])
def test_keep_contents_dirlinks_follows_the_bases_directory_links(store, tmp_path,
                                                                   script) -> None:
    """On a merged-/usr base (`/bin -> usr/bin`), keepContentsDirlinks puts copyToRoot's
    `bin/hello` at `usr/bin/hello` and leaves the base's link alone, with or without a
    runAsRoot script; without it the layer's `bin/` directory replaces the link (Nix)."""
    busybox = _busybox(store)
    base_out = tmp_path / "base.tar"
    build_image(ImageSpec(name="merged-usr", tag="1", closure=[busybox],
                          extra_commands=f"mkdir -p usr/bin usr/lib\nln -s usr/bin bin\n"
                          f"ln -s usr/lib lib\nln -s {busybox}/bin/busybox usr/bin/sh\n"),
                store.view, str(base_out))
    hello = store.add_hello(tmp_path)
    out = tmp_path / "img.tar"
    build_image(ImageSpec(name="top", tag="1", closure=[hello], copy_to_root=[hello],
                          from_image=str(base_out), keep_contents_dirlinks=True,
                          run_as_root=script), store.view, str(out))
    members = layer_members(out)
    assert members["usr/bin/hello"].linkname == f"{hello}/bin/hello"
    assert not any(name.rstrip("/") == "bin" or name.startswith("bin/") for name in members)
    if script:
        assert layer_file(out, "greeting").startswith(b"Hello")
    build_image(ImageSpec(name="top", tag="2", closure=[hello], copy_to_root=[hello],
                          from_image=str(base_out)), store.view, str(tmp_path / "nix.tar"))
    assert layer_members(tmp_path / "nix.tar")["bin"].isdir()


def _tar(*entries: tuple[str, str, str]) -> bytes:
    """An uncompressed layer of (name, kind "dir"|"link"|"file", link target)."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for name, kind, target in entries:
            info = tarfile.TarInfo(name)
            info.type = {"dir": tarfile.DIRTYPE, "link": tarfile.SYMTYPE,
                         "file": tarfile.REGTYPE}[kind]
            info.linkname = target
            tar.addfile(info, io.BytesIO(b""))
    return data.getvalue()


def test_base_directory_links_follow_the_layers_whiteouts_included() -> None:
    lower = _tar(("usr", "dir", ""), ("usr/bin", "dir", ""), ("usr/lib", "dir", ""),
                 ("bin", "link", "usr/bin"), ("lib", "link", "/usr/lib"),
                 ("sbin", "link", "usr/sbin"), ("etc", "link", "usr/bin"))
    upper = _tar((".wh.lib", "file", ""), ("etc", "dir", ""), ("sbin/x", "file", ""))
    openers = [lambda data=data: io.BytesIO(data) for data in (lower, upper)]
    # sbin's target is no directory, lib was whited out, etc became a directory.
    assert base_directory_links(openers) == {"bin": "usr/bin"}
    gone = _tar(("usr/.wh..wh..opq", "file", ""))
    openers.append(lambda: io.BytesIO(gone))
    assert base_directory_links(openers) == {}


def test_run_as_root_on_a_base_sees_its_users_and_writes_only_changes(store, tmp_path) -> None:
    busybox = _busybox(store)
    base_out = tmp_path / "base.tar"
    build_image(ImageSpec(name="base", tag="1", closure=[busybox], copy_to_root=[busybox],
                          run_as_root=SHADOW_SETUP + "useradd -u 1500 app\nmkdir /srv\n"
                          "echo old > /srv/gone\n"),
                store.view, str(base_out))
    out = tmp_path / "img.tar"
    build_image(ImageSpec(name="top", tag="1", from_image=str(base_out),
                          run_as_root="mkdir -p /srv/app && chown app /srv/app\nrm /srv/gone\n"),
                store.view, str(out))
    members = layer_members(out)
    assert members["srv/app"].uid == 1500
    assert "srv/.wh.gone" in members
    assert "etc/passwd" not in members and "bin/sh" not in members


def test_declarative_users_without_shadow_tools(store, tmp_path) -> None:
    fake_nss = store.add("fake-nss", {"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"
                                      "nobody:x:65534:65534:nobody:/:/bin/false\n",
                                      "etc/group": "root:x:0:\nnogroup:x:65534:\n"})
    out = tmp_path / "img.tar"
    build_image(ImageSpec(name="u", tag="1", closure=[fake_nss], copy_to_root=[fake_nss],
                          users=[{"name": "redis", "uid": 999, "group": "redis",
                                  "home": "/data"}]), store.view, str(out))
    members = layer_members(out)
    assert layer_file(out, "etc/passwd").decode().splitlines() == [
        "root:x:0:0:root:/root:/bin/sh", "nobody:x:65534:65534:nobody:/:/bin/false",
        "redis:x:999:999::/data:/bin/sh"]
    assert layer_file(out, "etc/group").decode().splitlines()[-1] == "redis:x:999:"
    assert members["etc/passwd"].isfile()
    assert (members["data"].uid, members["data"].gid) == (999, 999)


def test_copy_to_root_merges_directories(store, tmp_path) -> None:
    a = store.add("a", {"bin/a": "a", "share/doc/a/README": "a", "etc/a.conf": "a"})
    b = store.add("b", {"bin/b": "b", "share/doc/b/README": "b", "etc/a.conf": "b"},
                  links={"lib64": "lib"})
    (store.real(b) / "lib").mkdir()
    (store.real(b) / "lib" / "libb.so").write_text("b")
    out = tmp_path / "img.tar"
    build_image(ImageSpec(name="m", tag="1", closure=[a, b], copy_to_root=[a, b],
                          extra_commands="mkdir -p tmp && chmod 1777 tmp && echo x > made"),
                store.view, str(out))
    members = layer_members(out)
    assert members["bin"].isdir() and members["bin/a"].linkname == f"{a}/bin/a"
    assert members["bin/b"].linkname == f"{b}/bin/b"
    assert members["share"].isdir() and members["share/doc"].isdir()
    assert members["share/doc/a"].linkname == f"{a}/share/doc/a"
    assert members["etc/a.conf"].linkname == f"{b}/etc/a.conf"  # the later path wins
    assert members["lib64"].isdir() and members["lib64/libb.so"].issym()
    assert members["tmp"].mode == 0o1777 and members["made"].isfile()
    out2 = tmp_path / "img2.tar"
    build_image(ImageSpec(name="m", tag="1", closure=[b], copy_to_root=[b],
                          keep_contents_dirlinks=True), store.view, str(out2))
    assert layer_members(out2)["lib64"].linkname == "lib"


def test_argument_errors_are_helpful(store, tmp_path) -> None:
    hello = store.add_hello(tmp_path)
    out = str(tmp_path / "x.tar")

    def build(**kw):
        kw.setdefault("closure", [hello])
        build_image(ImageSpec(name="x", tag="1", **kw), store.view, out)

    with pytest.raises(ImageError, match="unknown image config key 'Entrypoitn'.*did you mean "
                                         "'Entrypoint'"):
        build(config={"Entrypoitn": ["/bin/hello"]})
    with pytest.raises(ImageError, match=r'config.Cmd must be a list of strings, like \[ "/bin'):
        build(config={"Cmd": "/bin/hello"})
    with pytest.raises(ImageError, match="unknown compressor 'zst'.*did you mean 'zstd'"):
        build(compressor="zst")
    with pytest.raises(ImageError, match="not in the image closure"):
        build(copy_to_root=[store.add("other", {"x": "y"})])
    with pytest.raises(ImageError, match="does not exist in the store"):
        build(closure=[store.path("missing")])
    with pytest.raises(ImageError, match="invalid image name"):
        build_image(ImageSpec(name="Hello"), store.view, out)
    with pytest.raises(ImageError, match="the runAsRoot script failed with exit code 3"):
        build(run_as_root="exit 3")
    with pytest.raises(ImageError, match="extraCommands failed with exit code 1"):
        build(extra_commands="false")
    assert not os.path.exists(out)


def test_default_tag_and_created_now(store, tmp_path) -> None:
    hello = store.add_hello(tmp_path)
    a = build_image(ImageSpec(name="x", closure=[hello]), store.view, str(tmp_path / "a"))
    b = build_image(ImageSpec(name="x", closure=[hello]), store.view, str(tmp_path / "b"))
    assert a.repo_tags == b.repo_tags and len(a.repo_tags[0].split(":")[1]) == 32
    now = build_image(ImageSpec(name="x", tag="n", closure=[hello], created="now"),
                      store.view, str(tmp_path / "c"))
    assert now.config_json["created"] != "1970-01-01T00:00:01Z"
    assert json.loads(now.config)["created"].endswith("Z")
    shutil.rmtree(tmp_path / "store", ignore_errors=True)


def test_uid_and_gid_own_the_store_and_links(store, tmp_path) -> None:
    hello = store.add_hello(tmp_path)
    out = tmp_path / "img.tar"
    build_image(ImageSpec(name="x", tag="1", closure=[hello], copy_to_root=[hello],
                          uid=1000, gid=100), store.view, str(out))
    members = layer_members(out)
    rel = hello.lstrip("/")
    assert (members[f"{rel}/bin/hello"].uid, members[f"{rel}/bin/hello"].gid) == (1000, 100)
    assert members["bin/hello"].uid == 1000


@pytest.mark.skipif(os.geteuid() != 0, reason="the unprivileged suite takes this path anyway")
def test_run_as_root_in_a_user_namespace_with_a_full_id_range(store, tmp_path,
                                                              monkeypatch) -> None:
    """The path ndx takes for a user with a subordinate range (0 → the user, 1…65535 → the
    range), forced on this root machine: owners the script sets are recorded as it set
    them, and a base image's files keep theirs."""
    monkeypatch.setenv("NDX_RUNASROOT_USERNS", "1")
    busybox = _busybox(store)
    base_out = tmp_path / "base.tar"
    build_image(ImageSpec(name="base", tag="1", closure=[busybox], copy_to_root=[busybox],
                          users=[{"name": "app", "uid": 1000, "home": "/home/app"}]),
                store.view, str(base_out))
    out = tmp_path / "img.tar"
    build_image(ImageSpec(name="top", tag="1", from_image=str(base_out),
                          run_as_root=SHADOW_SETUP + "groupadd -g 999 redis\n"
                          "useradd -u 999 -g redis -M -d /data redis\n"
                          "mkdir /data && chown redis:redis /data\n"
                          "echo hi > /home/app/note && chown app /home/app/note\n"),
                store.view, str(out))
    members = layer_members(out)
    assert (members["data"].uid, members["data"].gid) == (999, 999)
    assert members["home/app/note"].uid == 1000
    assert members["home/app"].uid == 1000  # the base's owner, kept on the parent entry
    assert b"redis:x:999:" in layer_file(out, "etc/passwd")


def test_extra_commands_run_unprivileged(store, tmp_path) -> None:
    hello = store.add_hello(tmp_path)
    out = tmp_path / "img.tar"
    build_image(ImageSpec(name="x", tag="1", closure=[hello], copy_to_root=[hello],
                          extra_commands="id -u > whoami; mkdir -p var/tmp; chmod 1777 var/tmp"),
                store.view, str(out))
    members = layer_members(out)
    expected = b"65534\n" if os.geteuid() == 0 else f"{os.geteuid()}\n".encode()
    assert layer_file(out, "whoami") == expected
    assert members["whoami"].uid == 0 and members["var/tmp"].mode == 0o1777
