"""Base images for the registry tests, made locally by real tools: a busybox image (from
busybox-static, in seconds) and a Debian bookworm minbase image (debootstrap, cached
under the project cache dir because it takes a while), both as OCI layouts written by
`umoci`, pushed to registries with `skopeo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_cache() -> Path:
    """$NDX_TEST_CACHE, else .cache/registry-tests in the checkout."""
    return Path(os.environ.get("NDX_TEST_CACHE") or REPO_ROOT / ".cache" / "registry-tests")


def run(*argv: str, input: bytes | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, input=input, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n"
                           f"{done.stdout.decode()[-2000:]}{done.stderr.decode()[-3000:]}")
    return done.stdout.decode()


def umoci_image(rootfs: Path, layout: Path, tag: str, *, arch: str = "amd64",
                cmd: str = "/bin/sh", env: tuple[str, ...] = ()) -> None:
    """An OCI layout `layout:tag` with one layer holding `rootfs` (through unpack and
    repack: `umoci insert` writes layer tars without their end-of-archive blocks)."""
    if not (layout / "index.json").exists():
        run("umoci", "init", "--layout", str(layout))
    run("umoci", "new", "--image", f"{layout}:{tag}")
    bundle = Path(tempfile.mkdtemp(prefix="umoci-bundle-"))
    bundle.rmdir()
    try:
        run("umoci", "unpack", "--image", f"{layout}:{tag}", str(bundle))
        run("cp", "-a", f"{rootfs}/.", str(bundle / "rootfs"))
        run("umoci", "repack", "--image", f"{layout}:{tag}", str(bundle))
    finally:
        subprocess.run(["rm", "-rf", str(bundle)], check=False)
    args = ["umoci", "config", "--image", f"{layout}:{tag}", "--config.cmd", cmd,
            "--architecture", arch, "--os", "linux"]
    for e in env:
        args += ["--config.env", e]
    run(*args)


def busybox_rootfs(directory: Path) -> Path:
    root = directory / "busybox-root"
    (root / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    for applet in ("sh", "echo", "cat", "ls", "true"):
        os.symlink("busybox", root / "bin" / applet)
    (root / "etc").mkdir()
    (root / "etc" / "motd").write_text("hello from the ndx registry tests\n")
    return root


def debian_layout() -> Path:
    """The cached OCI layout `debian:bookworm` (debootstrap --variant=minbase), built
    once; concurrent runs build in a temporary directory and rename."""
    cache = test_cache()
    layout = cache / "debian-bookworm-minbase.oci"
    if (layout / "index.json").exists():
        return layout
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=cache, prefix=".debian-"))
    try:
        rootfs = work / "rootfs"
        run("debootstrap", "--variant=minbase", "bookworm", str(rootfs),
            "http://deb.debian.org/debian")
        # Caches and logs make the tarball bigger and vary between runs.
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "var/log"):
            target = rootfs / junk
            if target.exists():
                for child in target.iterdir():
                    if child.is_file():
                        child.unlink()
        umoci_image(rootfs, work / "layout", "bookworm", cmd="/bin/bash",
                    env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",))
        try:
            os.rename(work / "layout", layout)
        except OSError:
            if not (layout / "index.json").exists():
                raise
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return layout


def skopeo_copy(src: str, dest: str, *extra: str) -> None:
    run("skopeo", "copy", "--quiet", "--insecure-policy", *extra, src, dest)
