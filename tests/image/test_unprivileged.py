"""runAsRoot without root: the helper enters a user namespace. Run here as user nobody,
which has no subordinate id range, so the script is root in the image but cannot give
files to other owners (and says how to allow it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from .helpers import layer_file, layer_members
from .storetree import FakeStore

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534


def _as_nobody(home: Path, program: str) -> subprocess.CompletedProcess[str]:
    """Run `program` with this checkout's ndx as user nobody (the venv lives under /root,
    so the system interpreter gets a path mapping `ndx.*` onto the source folders)."""
    shim = home / "pkgs" / "ndx"
    shim.mkdir(parents=True)
    for folder in ("lang", "evaluator", "stdlib", "grammar", "cli"):
        os.symlink(ROOT / folder, shim / folder)
    site = next(p for p in sys.path if p.endswith("site-packages"))
    env = {"HOME": str(home), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
           "PYTHONPATH": f"{shim.parent}:{site}", "PYTHONDONTWRITEBYTECODE": "1"}
    for directory, dirs, files in os.walk(home):
        for name in [directory] + [os.path.join(directory, f) for f in dirs + files]:
            os.lchown(name, NOBODY, NOBODY)
    setpriv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    readable = subprocess.run([*setpriv, "test", "-r", str(ROOT / "stdlib" / "image" / "build.py")],
                              check=False)
    assert readable.returncode == 0, f"user nobody cannot read the checkout at {ROOT}"
    cmd = [*setpriv, "/usr/bin/python3", "-c", program]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=home,
                          check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root; "
                    "when not root this whole suite already runs unprivileged")
def test_run_as_root_in_a_user_namespace_as_nobody() -> None:
    home = Path(tempfile.mkdtemp(prefix="ndx-unpriv-image-"))
    try:
        os.chmod(home, 0o755)
        store = FakeStore(home / "store")
        with open("/bin/busybox", "rb") as f:
            busybox = store.add("busybox", {"bin/busybox": f.read()}, modes={"bin/busybox": 0o555},
                                links={"bin/sh": "busybox"})
        template = textwrap.dedent("""\
            from ndx.stdlib.image.build import ImageSpec, StoreView, build_image
            build_image(ImageSpec(name="u", tag="1", closure=[{bb!r}], copy_to_root=[{bb!r}],
                                  run_as_root={script!r}),
                        StoreView({store!r}), {out!r})
            print("built")
        """)
        ok = _as_nobody(home, template.format(
            bb=busybox, store=str(home / "store"), out=str(home / "img.tar"),
            script="mkdir -p /data\nid -u > /data/uid\nchmod 0700 /data\n"))
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout == "built\n"
        out = home / "img.tar"
        assert os.stat(out).st_uid == NOBODY
        members = layer_members(out)
        assert layer_file(out, "data/uid") == b"0\n"
        assert (members["data"].uid, members["data"].mode) == (0, 0o700)
        assert not [n for n in members if n.startswith((".ndx-build", "dev"))]
        again = home / "again"   # a second shim directory for the second run
        again.mkdir()
        failed = _as_nobody(again, template.format(bb=busybox, store=str(home / "store"),
                                            out=str(home / "img2.tar"),
                                            script="mkdir /data\nchown 999 /data\n"))
        assert failed.returncode != 0
        assert "the runAsRoot script failed" in failed.stderr
        assert "/etc/subuid" in failed.stderr
    finally:
        shutil.rmtree(home, ignore_errors=True)
