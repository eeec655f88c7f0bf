"""The bubblewrap sandbox a builder runs in.

Inside, the builder sees a read-only `/` with only: `/ndx/store` (a writable directory
holding the input closure read-only and wherever the outputs are created), `/build`
(its private build directory), `/proc`, a minimal `/dev`, a small `/etc` (passwd, group,
hosts) and the host trees the derivation names in `__impureHostDeps`. It runs as uid
1000 in new user, mount, PID, IPC, UTS and network namespaces; fixed-output derivations
keep the network (and get the host's resolv.conf). The physical store may live anywhere:
each input is bind-mounted at its logical path.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from ndx.stdlib.store.errors import SandboxUnavailableError
from ndx.stdlib.store.paths import STORE_DIR

BUILD_TOP = "/build"
"""The build directory's path inside the sandbox (`$NDX_BUILD_TOP`, `$TMPDIR`)."""

SANDBOX_UID = 1000
SANDBOX_GID = 100

_PASSWD = (f"root:x:0:0:Nix build user:{BUILD_TOP}:/noshell\n"
           f"nixbld:x:{SANDBOX_UID}:{SANDBOX_GID}:Nix build user:{BUILD_TOP}:/noshell\n"
           "nobody:x:65534:65534:Nobody:/:/noshell\n")
_GROUP = f"root:x:0:\nnixbld:!:{SANDBOX_GID}:\nnogroup:x:65534:\n"
_HOSTS = "127.0.0.1 localhost\n::1 localhost\n"

# What a fixed-output (networked) build also sees of the host, for name resolution.
_NETWORK_FILES = ("/etc/resolv.conf", "/etc/services", "/etc/nsswitch.conf")


@dataclass(frozen=True)
class SandboxSpec:
    """Everything `bwrap_command` needs about one build."""

    physical_store: str          # where store paths' bytes are
    inputs: Iterable[str]        # logical store paths to show read-only
    store_overlay: str           # a writable host directory mounted at /ndx/store
    build_dir: str               # the host directory mounted at /build
    etc_dir: str                 # a host directory to write passwd/group/hosts into
    network: bool                # keep the host network (fixed-output derivations)
    host_deps: tuple[str, ...]   # host trees bind-mounted read-only


def bwrap_path() -> str:
    """The bubblewrap executable, or SandboxUnavailableError naming the package."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailableError(
            "the build sandbox needs bubblewrap, which is not installed: install the "
            "'bubblewrap' package (e.g. apt-get install bubblewrap), or build without "
            "isolation using --no-sandbox")
    return path


@functools.cache
def check_sandbox() -> None:
    """Make sure bubblewrap can create its namespaces here (checked once per process)."""
    bwrap = bwrap_path()
    probe = subprocess.run(
        [bwrap, "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID), "--gid",
         str(SANDBOX_GID), "--die-with-parent", "--ro-bind", "/", "/", "--", "true"],
        check=False, capture_output=True, text=True)
    if probe.returncode != 0:
        raise SandboxUnavailableError(
            "bubblewrap cannot create the build sandbox here: "
            f"{probe.stderr.strip() or f'exit code {probe.returncode}'}\n"
            "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 "
            "or user.max_user_namespaces > 0), or build without isolation using "
            "--no-sandbox")


def bwrap_arguments(spec: SandboxSpec) -> list[str]:
    """The bubblewrap options (to pass through `--args`) for one build."""
    os.makedirs(spec.etc_dir, exist_ok=True)
    etc = {"passwd": _PASSWD, "group": _GROUP, "hosts": _HOSTS}
    for name, text in etc.items():
        with open(os.path.join(spec.etc_dir, name), "w") as file:
            file.write(text)
    args = ["--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID),
            "--gid", str(SANDBOX_GID), "--hostname", "localhost",
            "--die-with-parent", "--new-session"]
    if spec.network:
        args.append("--share-net")
    args += ["--bind", spec.store_overlay, STORE_DIR]
    for path in sorted(set(spec.inputs)):
        args += ["--ro-bind", spec.physical_store + path[len(STORE_DIR):], path]
    args += ["--bind", spec.build_dir, BUILD_TOP,
             "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm"]
    for dep in spec.host_deps:
        args += ["--ro-bind-try", dep, dep]
    for name in etc:
        if not (spec.network and name == "hosts"):
            args += ["--ro-bind", os.path.join(spec.etc_dir, name), f"/etc/{name}"]
    if spec.network:
        for host_file in ("/etc/hosts", *_NETWORK_FILES):
            args += ["--ro-bind-try", host_file, host_file]
    args += ["--chdir", BUILD_TOP, "--remount-ro", "/"]
    return args
