"""runAsRoot: run a script as root inside the image's file system, without real root and
without a VM, and write the layer from inside the same session.

Mechanism (see docs/architecture.md, "runAsRoot"): a helper process (this module, run as
`python -m ndx.stdlib.image.runasroot`) enters private mount, network, IPC and UTS
namespaces — and, when ndx is not running as root, a user namespace whose uid/gid
0…65535 are mapped by newuidmap/newgidmap onto the caller's uid and subordinate range,
so `chown redis /data` works and is recorded. In it the helper:

1. unpacks the base image's layers (with owners and modes) under the staged root;
2. mounts, inside the root, the store paths read-only at `/ndx/store/<name>`, a small
   `/dev`, and the build tools at `/.ndx-build` (a static busybox for the shell and core
   utilities, and the host's shadow tools, run through the host's own dynamic loader so
   they need nothing from the image);
3. runs the script chrooted into the root, as uid 0;
4. unmounts `/dev` and `/.ndx-build` and removes the mount points it created, then
   writes the layer — what the script changed or created relative to the base, the
   staged copyToRoot tree, and the store closure — to a file descriptor the caller
   opened, with the owners and modes as the script left them (which is why it happens
   inside the namespace: outside it, those owners are other numbers or unreadable);
5. removes the staged root.

Nothing of the tools or mount points reaches the layer: they live in mounts that are gone
before the layer is walked, and the walk skips `/ndx/store` (the closure is added from
the store itself).
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import ImageError

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET = 0x04000000, 0x08000000, 0x40000000
#: Namespaces the script always gets: its own mounts, no network, its own IPC and hostname.
ISOLATION = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC = 4096, 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

#: Where the build tools are mounted inside the root during the script.
TOOLS_DIR = ".ndx-build"
#: Host programs made available to the script besides busybox (run via the host loader).
HOST_TOOLS = ("groupadd", "groupdel", "groupmod", "useradd", "userdel", "usermod",
              "gpasswd", "chpasswd", "chage", "newusers", "pwconv", "grpconv", "pwck",
              "grpck", "passwd", "chgpasswd")
#: Host directories bound (read-only) under /.ndx-build/host for those programs.
HOST_DIRS = ("/usr", "/lib", "/lib64", "/bin", "/sbin")
#: Device nodes a script may need.
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
#: Set to "1" to use a user namespace even as root (exercises the unprivileged path).
USERNS_ENV = "NDX_RUNASROOT_USERNS"
#: First host id of the range mapped then (ids 1…65535 of the namespace).
ROOT_TEST_RANGE = 1_000_000
#: The PATH of the script: build tools first, then the image's own directories.
SCRIPT_PATH = f"/{TOOLS_DIR}/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class RootJob:
    """Everything the helper needs, passed as JSON."""

    root: str                                   # the staged root (host path)
    staged: list[str]                           # paths above the base (relative)
    store: list[tuple[str, str]]                # (logical, physical) store paths to mount
    closure: list[str]                          # logical paths whose trees go in the layer
    script: str                                 # the runAsRoot script text
    env: dict[str, str] = field(default_factory=dict)
    uid: int = 0
    gid: int = 0
    base_archive: str | None = None
    base_layers: list[tuple[str, str]] = field(default_factory=list)  # (digest, media type)
    base_repo_tag: str | None = None
    compression: str | None = "gzip"
    level: int | None = None
    store_dir: str = "/ndx/store"
    graph: dict[str, list[str]] = field(default_factory=dict)  # references, for the closure
    self_map: bool = False          # unprivileged without subordinate ids: map uid 0 only
    userns: bool = False            # run in a user namespace (always when not root)
    chroot: bool = True             # False: fakeRootCommands, run in place (see run_in_place)
    store_in_layer: bool = True     # False: the layer holds the root tree only


# --- the caller's side ------------------------------------------------------------------------

def run_as_root(job: RootJob, out_fd: int) -> dict[str, Any]:
    """Run `job` in a helper process; the layer blob is written to `out_fd`. Returns the
    layer description (`diff_id`, `digest`, `size`, `media_type`)."""
    unprivileged = os.geteuid() != 0
    # As root a user namespace adds nothing, except to exercise the unprivileged path on
    # a root machine (NDX_RUNASROOT_USERNS=1, used by the tests) — and for a script run in
    # place (fakeRootCommands), which is then fake root only: uid 0 of a namespace whose
    # ids are an unused range of the host's, so it cannot touch the host's files.
    job.userns = unprivileged or os.environ.get(USERNS_ENV) == "1" or not job.chroot
    if unprivileged and not _has_subids():
        job.self_map = True
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ndx.stdlib.image.runasroot", str(out_fd), str(ready_w),
         str(go_r)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        pass_fds=(out_fd, ready_w, go_r), env=env)
    os.close(ready_w)
    os.close(go_r)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(asdict(job)).encode())
    proc.stdin.close()
    proc.stdin = None
    try:
        if os.read(ready_r, 1) == b"u":  # the helper entered a user namespace: map it
            if unprivileged:
                _map_ids(proc.pid)
            elif not job.chroot:
                _map_ids_fake_root(proc.pid)
            else:
                _map_ids_as_root(proc.pid)
        os.write(go_w, b"g")
    except OSError:
        pass
    finally:
        os.close(ready_r)
        os.close(go_w)
    out, err = proc.communicate()
    log = err.decode(errors="replace")
    if proc.returncode != 0:
        lines = log.strip().splitlines()
        message = lines[-1].removeprefix("error: ") if lines else "runAsRoot failed"
        detail = "\n".join(lines[-31:-1])
        raise ImageError(message + (f"\n--- log of the script ---\n{detail}" if detail else ""))
    if log:
        sys.stderr.write(log)
    result: dict[str, Any] = json.loads(out)
    return result


def _subids(path: str, user: str, uid: int) -> tuple[int, int] | None:
    try:
        with open(path) as f:
            for line in f:
                parts = line.strip().split(":")
                if len(parts) == 3 and parts[0] in (user, str(uid)):
                    return int(parts[1]), int(parts[2])
    except FileNotFoundError:
        return None
    return None


def _has_subids() -> bool:
    """Whether this user can map a full range of ids (newuidmap and /etc/subuid ranges)."""
    if not shutil.which("newuidmap") or not shutil.which("newgidmap"):
        return False
    uid = os.getuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    return all(_subids(path, user, uid) is not None for path in ("/etc/subuid", "/etc/subgid"))


def _map_ids_as_root(pid: int) -> None:
    """The mapping an unprivileged user with a subordinate range gets (0 → ourselves,
    1…65535 → a range), written directly: root needs no newuidmap."""
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(f"0 0 1\n1 {ROOT_TEST_RANGE} 65535\n")


def _map_ids_fake_root(pid: int) -> None:
    """As root, for a script run in place: ids 0…65535 → the unused host range."""
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(f"0 {ROOT_TEST_RANGE} 65536\n")


def _map_ids(pid: int) -> None:
    uid, gid = os.getuid(), os.getgid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    for tool, path, own in (("newuidmap", "/etc/subuid", uid), ("newgidmap", "/etc/subgid", gid)):
        start, count = _subids(path, user, uid) or (0, 0)
        count = min(count, 65535)
        subprocess.run([tool, str(pid), "0", str(own), "1", "1", str(start), str(count)],
                       check=True, capture_output=True)


# --- the helper's side ------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    _check(_libc.mount(source.encode(), target.encode(),
                       fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def _bind_ro(source: str, target: str) -> None:
    _mount(source, target, None, MS_BIND | MS_REC)
    # In a user namespace the flags locked on the original mount must be kept.
    flags = os.statvfs(target).f_flag
    locked = ((MS_NOSUID if flags & os.ST_NOSUID else 0) | (MS_NODEV if flags & os.ST_NODEV
              else 0) | (MS_NOEXEC if flags & os.ST_NOEXEC else 0))
    _mount("none", target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | locked)


def _umount(target: str) -> None:
    _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def _interpreter(path: str) -> str | None:
    """The ELF program interpreter of `path` (None for a static binary)."""
    import struct

    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return None
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            kind, = struct.unpack("<I", f.read(4))
            if kind == 3:  # PT_INTERP
                f.seek(phoff + i * phentsize + 8)
                offset, = struct.unpack("<Q", f.read(8))
                f.seek(phoff + i * phentsize + 32)
                size, = struct.unpack("<Q", f.read(8))
                f.seek(offset)
                return f.read(size).rstrip(b"\0").decode()
    return None


def _busybox() -> str:
    for candidate in (shutil.which("busybox"), "/bin/busybox", "/usr/bin/busybox"):
        if candidate and os.path.exists(candidate):
            real = os.path.realpath(candidate)
            if _interpreter(real) is None:
                return real
    raise ImageError("runAsRoot needs a statically linked busybox on the build machine for "
                     "its shell (Debian package 'busybox-static')")


def _prepare_tools(tools: str) -> list[str]:
    """Fill the tools directory: host dirs bound read-only, busybox applets, wrappers for the
    host's shadow tools. Returns the mount points made (to undo later)."""
    mounts = []
    host = os.path.join(tools, "host")
    for directory in HOST_DIRS:
        if os.path.isdir(directory) and not os.path.islink(directory):
            target = host + directory
            os.makedirs(target, exist_ok=True)
            _bind_ro(directory, target)
            mounts.append(target)
    inside = f"/{TOOLS_DIR}/host"
    bin_dir = os.path.join(tools, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    busybox = _busybox()
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        os.symlink(inside + busybox, os.path.join(bin_dir, applet))
    for tool in HOST_TOOLS:
        program = shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")
        if not program:
            continue
        program = os.path.realpath(program)
        interp = _interpreter(program)
        if interp is None:
            line = f'exec {inside}{program} "$@"'
        else:
            loader = os.path.realpath(interp)
            libdirs = [os.path.dirname(loader), "/usr/lib64", "/usr/lib", "/lib64", "/lib"]
            libpath = ":".join(inside + d for d in dict.fromkeys(libdirs)
                               if os.path.isdir(d) and not os.path.islink(d))
            line = (f'exec {inside}{loader} --inhibit-cache --library-path {libpath} '
                    f'--argv0 {tool} {inside}{program} "$@"')
        wrapper = os.path.join(bin_dir, tool)
        if os.path.lexists(wrapper):
            os.unlink(wrapper)
        with open(wrapper, "w") as f:
            f.write(f"#!/{TOOLS_DIR}/bin/sh\n{line}\n")
        os.chmod(wrapper, 0o755)
    return mounts


def _helper(job: RootJob, out_fd: int, ready_fd: int, go_fd: int) -> None:
    # Imported before anything is mounted or unpacked (modules must not come from the root).
    from .archive_reader import ImageArchive
    from .layer import Entry, LayerContents, _entry, write_layer
    from .rootfs import changes, extend_closure, extract_layer, snapshot

    unprivileged = job.userns
    outer_uid, outer_gid = os.getuid(), os.getgid()
    if unprivileged and outer_uid == 0 and not job.chroot:
        # The namespace's root will be host id ROOT_TEST_RANGE: give it the staged tree.
        for directory, dirs, files in os.walk(job.root):
            for name in [directory, *(os.path.join(directory, n) for n in dirs + files)]:
                os.lchown(name, ROOT_TEST_RANGE, ROOT_TEST_RANGE)
    _check(_libc.unshare(ISOLATION | (CLONE_NEWUSER if unprivileged else 0)), "unshare")
    if unprivileged and job.self_map:
        # No subordinate ids: map root to ourselves only (other owners cannot be set).
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {outer_uid} 1"),
                           ("gid_map", f"0 {outer_gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    os.write(ready_fd, b"u" if unprivileged and not job.self_map else b"r")
    os.close(ready_fd)
    if os.read(go_fd, 1) != b"g":
        raise ImageError("runAsRoot: the id mapping was not set up")
    os.close(go_fd)
    if unprivileged:
        if not job.self_map:
            os.setgroups([])
        os.setgid(0)
        os.setuid(0)
    _mount("none", "/", None, MS_REC | MS_PRIVATE)

    root = job.root
    staged = set(job.staged)
    store_rel = job.store_dir.strip("/")
    skip = {store_rel, TOOLS_DIR}
    # 1. the base image underneath the staged content
    if job.base_archive:
        with ImageArchive(job.base_archive) as archive:
            from .image_model import Layer
            for digest, media_type in job.base_layers:
                with archive.open_layer(Layer("", digest, 0, media_type)) as stream:
                    extract_layer(root, stream, staged)
    for rel in sorted(staged):
        os.lchown(os.path.join(root, rel), job.uid, job.gid)
    before = snapshot(root, skip) if job.base_archive else None

    if job.chroot:
        store_root = _run_chrooted(job, root, store_rel)
    else:
        _run_in_place(job, root)
        store_root = None
        skip = set()

    contents = LayerContents()
    if before is not None:
        after = snapshot(root, skip)
        changed, removed = changes(before, after)
        for rel in sorted(set(changed) | (staged & set(after))):
            parts = rel.split("/")
            for i in range(1, len(parts) + 1):
                path = "/".join(parts[:i])
                if path not in contents:
                    real = os.path.join(root, path)
                    contents.add(_entry(path, real, os.lstat(real), None))
        for rel in removed:
            contents.add_whiteout(rel)
    else:
        contents.add_tree(root, "", owner=None, skip=skip)
    closure = extend_closure(root, job.closure, job.graph, skip)
    if job.store_in_layer:
        for rel in (store_rel.split("/")[0], store_rel):
            if rel not in contents:
                contents.add(Entry(rel, "dir", 0o755))
        for logical in sorted(closure):
            rel = f"{store_rel}/{os.path.basename(logical)}"
            contents.add_tree(os.path.join(root, rel), rel, owner=(job.uid, job.gid))
    with os.fdopen(out_fd, "wb", closefd=False) as out:
        layer = write_layer(out, contents.entries(), compression=job.compression,
                            level=job.level)
    if store_root is not None:
        _umount(store_root)
    shutil.rmtree(root, ignore_errors=True)
    sys.stdout.write(json.dumps({"diff_id": layer.diff_id, "digest": layer.digest,
                                 "size": layer.size, "media_type": layer.media_type,
                                 "closure": sorted(closure)}))


def _run_chrooted(job: RootJob, root: str, store_rel: str) -> str:
    """Mount the store paths, /dev and the tools in `root`, run the script chrooted there,
    and undo the tool mounts. Returns the store mount (unmounted after the layer)."""
    # 2. mounts: store paths, /dev, the tools
    made: list[str] = []         # directories created only as mount points
    mounts: list[str] = []
    for rel in (store_rel.split("/")[0], store_rel):
        if not os.path.isdir(os.path.join(root, rel)):
            os.makedirs(os.path.join(root, rel), 0o755)
    store_root = os.path.join(root, store_rel)
    _mount("tmpfs", store_root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    for logical, physical in job.store:
        target = os.path.join(store_root, os.path.basename(logical))
        if os.path.isdir(physical) and not os.path.islink(physical):
            os.makedirs(target, exist_ok=True)
        elif os.path.islink(physical):
            os.symlink(os.readlink(physical), target)  # a link needs no mount
            continue
        else:
            open(target, "w").close()
        _bind_ro(physical, target)
    _mount("none", store_root, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    dev = os.path.join(root, "dev")
    if not os.path.lexists(dev):
        os.mkdir(dev, 0o755)
        made.append(dev)
    _mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=0755")
    mounts.append(dev)
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            open(os.path.join(dev, name), "w").close()
            _mount(f"/dev/{name}", os.path.join(dev, name), None, MS_BIND)
    tools = os.path.join(root, TOOLS_DIR)
    os.mkdir(tools, 0o755)
    made.append(tools)
    _mount("tmpfs", tools, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    mounts.append(tools)
    mounts[len(mounts):] = _prepare_tools(tools)
    with open(os.path.join(tools, "script"), "w") as f:
        f.write(job.script)

    # 3. the script, chrooted
    env = {"PATH": SCRIPT_PATH, "HOME": "/root", "USER": "root", "LOGNAME": "root",
           "SHELL": "/bin/sh", **job.env}
    pid = os.fork()
    if pid == 0:
        try:
            os.chroot(root)
            os.chdir("/")
            os.dup2(2, 1)
            os.execve(f"/{TOOLS_DIR}/bin/sh", ["sh", "-e", f"/{TOOLS_DIR}/script"], env)
        except BaseException as exc:  # noqa: BLE001 - report and leave the child
            sys.stderr.write(f"runAsRoot: cannot start the script: {exc}\n")
        os._exit(127)
    _, status = os.waitpid(pid, 0)

    # 4. undo the build-time mounts, then write the layer
    for target in reversed(mounts):
        _umount(target)
    for directory in reversed(made):
        os.rmdir(directory)
    _check_status(job, root, status, store_root)
    return store_root


def _check_status(job: RootJob, root: str, status: int, store_root: str | None) -> None:
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        if store_root is not None:
            _umount(store_root)
        shutil.rmtree(root, ignore_errors=True)
        hint = ("\nnote: ndx runs unprivileged without subordinate ids, so only root can "
                "own files; add ranges for this user to /etc/subuid and /etc/subgid (and "
                "install newuidmap, Debian package 'uidmap') to let the script chown"
                if job.self_map else "")
        what = "runAsRoot script" if job.chroot else "fakeRootCommands"
        raise ImageError(f"the {what} failed with exit code {code}{hint}")


def _run_in_place(job: RootJob, root: str) -> None:
    """fakeRootCommands without fakechroot: the host's shell and PATH, the layer's root
    as the working directory, uid 0 of the namespace. The store is visible at its logical
    place when the host has that directory and the namespace may read the physical store
    (it is bound over it); scripts that need the store's programs in any set-up use
    enableFakechroot, which mounts their inputs in the image root."""
    if job.store and os.path.isdir(job.store_dir):
        physical = os.path.dirname(job.store[0][1])
        if os.path.realpath(physical) != os.path.realpath(job.store_dir):
            try:
                _bind_ro(physical, job.store_dir)
            except OSError:
                pass  # the store stays where the host has it (unreadable here)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": root, "USER": "root",
           "LOGNAME": "root", **job.env}
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(root)
            os.dup2(2, 1)
            os.execve("/bin/sh", ["sh", "-e", "-c", job.script], env)
        except BaseException as exc:  # noqa: BLE001 - report and leave the child
            sys.stderr.write(f"fakeRootCommands: cannot start the script: {exc}\n")
        os._exit(127)
    _, status = os.waitpid(pid, 0)
    _check_status(job, root, status, None)



def main(argv: Sequence[str]) -> int:
    out_fd, ready_fd, go_fd = (int(a) for a in argv[:3])
    raw: Mapping[str, Any] = json.loads(sys.stdin.read())
    job = RootJob(**{**raw, "store": [tuple(p) for p in raw["store"]],
                     "base_layers": [tuple(p) for p in raw["base_layers"]]})
    try:
        _helper(job, out_fd, ready_fd, go_fd)
    except ImageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"error: runAsRoot: {exc.strerror or exc}"
                         f"{f' ({exc.filename})' if exc.filename else ''}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
