"""The layer cache (reuse across images and processes, pruned by gc with the paths it
was made from) and pushing: a second push of a bumped image uploads only what changed."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
from pathlib import Path

from ndx.stdlib.image.archive import Layer
from ndx.stdlib.image.layercache import LayerCache, layer_key
from ndx.stdlib.store.derived import prune_derived

from .conftest import BIN, Project, env
from .counting_proxy import CountingProxy


def _make_slowly(root: str, key: str, marks: str) -> str:
    cache = LayerCache(root)

    def make(out):  # type: ignore[no-untyped-def]
        with open(marks, "a") as f:
            f.write("made\n")
        out.write(b"blob-bytes")
        return Layer("sha256:" + "1" * 64, "sha256:" + "2" * 64, 10)

    return cache.get_or_make(key, ["/ndx/store/" + "a" * 32 + "-x"], make).layer.digest


def test_concurrent_builds_make_a_layer_once(tmp_path: Path) -> None:
    key = layer_key([("/ndx/store/" + "a" * 32 + "-x", "sha256:abc")], uid=0, gid=0,
                    compression="gzip", level=None)
    marks = str(tmp_path / "marks")
    with multiprocessing.get_context("fork").Pool(4) as pool:
        digests = pool.starmap(_make_slowly, [(str(tmp_path / "c"), key, marks)] * 8)
    assert set(digests) == {"sha256:" + "2" * 64}
    assert Path(marks).read_text() == "made\n"
    assert not [n for n in os.listdir(tmp_path / "c") if n.startswith(".tmp-")]


def test_an_entry_is_keyed_by_content() -> None:
    base = {"uid": 0, "gid": 0, "compression": "gzip", "level": None}
    path = "/ndx/store/" + "a" * 32 + "-x"
    one = layer_key([(path, "sha256:1")], **base)
    assert one == layer_key([(path, "sha256:1")], **base)
    assert one != layer_key([(path, "sha256:2")], **base)       # other contents
    assert one != layer_key([(path, "sha256:1")], **{**base, "compression": "zstd"})
    assert one != layer_key([(path, "sha256:1")], **{**base, "uid": 1000})


def test_prune_removes_entries_of_dead_paths_and_leftovers(tmp_path: Path) -> None:
    live, dead = "/ndx/store/" + "a" * 32 + "-live", "/ndx/store/" + "b" * 32 + "-dead"
    root = tmp_path / "derived" / "layers"
    for name, sources in (("k1", [live]), ("k2", [live, dead]), (".tmp-k3-1", [live])):
        (root / name).mkdir(parents=True)
        (root / name / "sources").write_text("".join(s + "\n" for s in sources))
        (root / name / "blob").write_bytes(b"x" * 100)
    freed = prune_derived(str(tmp_path), {live}, dry_run=True)
    assert freed > 0 and len(os.listdir(root)) == 3
    prune_derived(str(tmp_path), {live})
    assert os.listdir(root) == ["k1"]


def test_gc_prunes_the_layer_cache_with_the_paths(project: Project, tmp_path: Path) -> None:
    """In a store of its own: after the image and a package are collected, the layers
    made from collected paths are gone, the others stay."""
    store = tmp_path / "store"

    def ndx_build(*args: str) -> None:
        proc = subprocess.run([str(BIN / "ndx-build"), "--store", str(store), *args],
                              cwd=project.work, capture_output=True, text=True, env=env(),
                              check=False)
        assert proc.returncode == 0, proc.stderr

    ndx_build("default.ndx", "-A", "layered", "-o", str(tmp_path / "result"))
    ndx_build("default.ndx", "-A", "busybox", "-o", str(tmp_path / "keep"))
    cache = store / ".ndx" / "derived" / "layers"
    before = {n: (cache / n / "sources").read_text() for n in os.listdir(cache)
              if not n.endswith(".lock")}
    assert len(before) == 3
    os.unlink(tmp_path / "result")
    proc = subprocess.run([str(BIN / "ndx"), "store", "gc", "--store", str(store)],
                          capture_output=True, text=True, env=env(), check=False)
    assert proc.returncode == 0, proc.stderr
    after = {n for n in os.listdir(cache) if not n.endswith(".lock")}
    kept = {n for n, sources in before.items() if "-hello-" not in sources}
    assert after == kept and len(after) == 2


def test_second_push_uploads_only_what_changed(project: Project, tmp_path: Path) -> None:
    from tests.registry.servers import start_registry

    registry = start_registry(tmp_path / "registry")
    proxy = CountingProxy(registry.port)
    try:
        bumped = project.work / "bumped-push"
        project.run("default.ndx", "-A", "layered", "--argstr", "helloVersion", "1.2",
                    "--argstr", "message", "Hello again", "-o", str(bumped))

        def push(result: Path, tag: str) -> int:
            proxy.reset()
            proc = subprocess.run([str(BIN / "ndx"), "push", str(result),
                                   f"docker://{proxy.host}/ndx/layered:{tag}",
                                   "--insecure-registry", proxy.host],
                                  capture_output=True, text=True, env={
                                      **env(), "NDX_CACHE_DIR": str(tmp_path / "cache")},
                                  check=False)
            assert proc.returncode == 0, proc.stderr
            return proxy.sent

        first = push(project.build("layered"), "1.0")
        second = push(bumped, "1.2")
        from ndx.stdlib.image.archive import ImageArchive

        with ImageArchive(str(project.build("layered"))) as a, \
                ImageArchive(str(bumped)) as b:
            old, new = a.image(), b.image()
        changed = [la for la in new.layers if la.digest not in {o.digest for o in old.layers}]
        assert len(changed) == 2  # the hello layer and the customisation layer
        payload = sum(la.size for la in changed) + len(new.config) + len(new.manifest())
        # What went up: the changed blobs, the config, the manifest, and HTTP requests.
        assert payload <= second < payload + 16 * 1024
        assert second < first
        assert json.loads(new.config)["rootfs"]["diff_ids"][:2] == \
            json.loads(old.config)["rootfs"]["diff_ids"][:2]
    finally:
        proxy.stop()
        registry.stop()
