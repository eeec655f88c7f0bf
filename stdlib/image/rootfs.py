"""The image's root file system while it is being built: the copyToRoot link tree, the
base image unpacked for a runAsRoot script, and what changed afterwards.

copyToRoot rules (`link_contents`): the top-level directories of the given store paths
become real directories in `/` (so a script can add to `/etc`, `/bin`, …); what they
contain is linked: `/bin/redis-server -> /ndx/store/…-redis/bin/redis-server`. Below
the top level, a directory that only one path provides is linked as a whole (as Nix's
buildEnv does), and one provided by several becomes a real directory of links. A later
path wins over an earlier one for the same file. A top-level symlink to a directory is
followed (its target's entries are linked) unless `keepContentsDirlinks`, in which case
the symlink itself is kept and later paths' entries for it are merged into its target.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import BinaryIO

from .errors import ImageError

#: What a file looked like, for telling afterwards whether a script touched it.
Fingerprint = tuple[int, int, int, int, int, int, int]

_MAX_LINKS = 40


def resolve_in_root(root: str, rel: str, *, follow_last: bool = False,
                    error: Callable[[str], Exception] = ImageError) -> str:
    """The host path of `rel` inside `root`, resolving symlinks *as if `root` were `/`*, so
    a link in an untrusted image can never lead outside it (`/etc -> /host` stays in root).
    The last component is followed only with `follow_last`; a symlink loop raises
    `error` (the caller's kind of error)."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        if (parts or follow_last) and os.path.islink(candidate):
            hops += 1
            if hops > _MAX_LINKS:
                raise error(f"too many levels of symbolic links at /{rel}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        resolved.append(part)
    return os.path.join(root, *resolved)


# --- copyToRoot -----------------------------------------------------------------------------

def link_contents(root: str, paths: Sequence[str], real: Callable[[str], str], *,
                  keep_dirlinks: bool = False) -> list[str]:
    """Link the top-level entries of store paths `paths` (logical) into `root`, as described
    in the module docstring. `real` maps a logical store path to its bytes on this machine.
    Returns the created paths, relative to root."""
    created: list[str] = []
    for path in paths:
        top = real(path)
        if not os.path.isdir(top):
            raise ImageError(f"copyToRoot: {path} is not a directory; only store paths that "
                             "are directories (like a package's output) can be copied to /")
        for name in sorted(os.listdir(top)):
            _place(root, name, f"{path}/{name}", real, 1, keep_dirlinks, created)
    return created


def _place(root: str, rel: str, logical: str, real: Callable[[str], str], depth: int,
           keep_dirlinks: bool, created: list[str]) -> None:
    physical = real(logical)
    here = os.path.join(root, rel)
    src_is_link = os.path.islink(physical)
    src_is_dir = os.path.isdir(physical)  # follows links
    if src_is_link and src_is_dir and depth == 1 and keep_dirlinks:
        _replace(here)
        os.symlink(os.readlink(physical), here)
        created.append(rel)
        return
    if not src_is_dir or (src_is_link and depth > 1):
        if os.path.isdir(here) and not os.path.islink(here):
            raise ImageError(f"copyToRoot: {logical} is a file but /{rel} is already a "
                             "directory from an earlier path")
        _replace(here)
        os.symlink(logical, here)
        created.append(rel)
        return
    # A directory: link it whole when nothing else is there (below the top level).
    if os.path.lexists(here) and not os.path.islink(here) and not os.path.isdir(here):
        raise ImageError(f"copyToRoot: {logical} is a directory but /{rel} is already a "
                         "file from an earlier path")
    if os.path.islink(here):
        if keep_dirlinks and depth == 1:
            target = resolve_in_root(root, rel, follow_last=True)
            if os.path.isdir(target):
                for name in sorted(os.listdir(physical)):
                    _place(root, os.path.relpath(os.path.join(target, name), root),
                           f"{logical}/{name}", real, depth + 1, keep_dirlinks, created)
                return
        previous = os.readlink(here)
        os.unlink(here)
        os.mkdir(here, 0o755)
        created.append(rel)
        if previous.startswith("/") and _is_store_dir(real, previous):
            # Unfold a whole-directory link made for an earlier path.
            for name in sorted(os.listdir(real(previous))):
                _place(root, f"{rel}/{name}", f"{previous}/{name}", real, depth + 1,
                       keep_dirlinks, created)
    elif not os.path.exists(here):
        if depth > 1:
            os.symlink(logical, here)
            created.append(rel)
            return
        os.mkdir(here, 0o755)
        created.append(rel)
    for name in sorted(os.listdir(physical)):
        _place(root, f"{rel}/{name}", f"{logical}/{name}", real, depth + 1, keep_dirlinks,
               created)


def _is_store_dir(real: Callable[[str], str], logical: str) -> bool:
    try:
        return os.path.isdir(real(logical))
    except ImageError:
        return False


def _replace(path: str) -> None:
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)


# --- a base image's directory links ----------------------------------------------------------

def base_directory_links(open_layers: Sequence[Callable[[], BinaryIO]]) -> dict[str, str]:
    """The top-level symlinks of a base image that lead to one of its directories, by name
    (`{"bin": "usr/bin", "lib": "usr/lib", …}` in a merged-/usr Debian), read from its
    uncompressed layer tars bottom first (whiteouts remove)."""
    links: dict[str, str] = {}
    dirs: set[str] = set()
    for opener in open_layers:
        with opener() as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                rel = os.path.normpath(member.name.lstrip("/")).removeprefix("./")
                if rel in (".", "") or rel.startswith("../"):
                    continue
                parent, _, name = rel.rpartition("/")
                if name == ".wh..wh..opq" or name.startswith(".wh."):
                    victim = parent if name == ".wh..wh..opq" else \
                        (f"{parent}/{name[4:]}" if parent else name[4:])
                    gone = {d for d in dirs if d.startswith(victim + "/")}
                    if name != ".wh..wh..opq":
                        gone.add(victim)
                        links.pop(victim, None)
                    elif not parent:
                        links.clear()
                    dirs -= gone
                    continue
                if "/" not in rel:
                    links.pop(rel, None)
                    if member.issym():
                        links[rel] = member.linkname
                if member.isdir():
                    dirs.add(rel)
                else:
                    dirs.discard(rel)
    return {name: target for name, target in sorted(links.items())
            if os.path.normpath(target.lstrip("/")) in dirs}


def make_directory_links(root: str, links: Mapping[str, str]) -> list[str]:
    """Make the links `links` (name → target, see `base_directory_links`) and their target
    directories in an empty staged root, so that copyToRoot with keepContentsDirlinks puts
    `bin/x` at `usr/bin/x` as the base has it; returns the links, which the caller removes
    again once the contents are placed (the base provides them)."""
    for name, target in links.items():
        os.makedirs(os.path.join(root, os.path.normpath(target.lstrip("/"))), 0o755,
                    exist_ok=True)
        os.symlink(target, os.path.join(root, name))
    return sorted(links)


# --- a base image, unpacked -----------------------------------------------------------------

def extract_layer(root: str, stream: BinaryIO, protected: set[str]) -> None:
    """Apply one uncompressed layer tar to `root` as an engine would: whiteouts
    (`.wh.name`, `.wh..wh..opq`) delete, everything else is created with its recorded
    owner and mode. Paths in `protected` (content placed above the base) are left alone."""
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            rel = os.path.normpath(member.name.lstrip("/")).removeprefix("./")
            if rel in (".", "") or rel.startswith("../"):
                continue
            parent, _, name = rel.rpartition("/")
            if name == ".wh..wh..opq":
                _clear_dir(root, parent, protected)
                continue
            if name.startswith(".wh."):
                victim = f"{parent}/{name[4:]}" if parent else name[4:]
                if victim not in protected:
                    remove_path(resolve_in_root(root, victim))
                continue
            if rel in protected:
                continue
            _extract_member(tar, member, root, rel)


def _clear_dir(root: str, rel: str, protected: set[str]) -> None:
    target = resolve_in_root(root, rel, follow_last=True)
    if not os.path.isdir(target):
        return
    for name in os.listdir(target):
        if (f"{rel}/{name}" if rel else name) not in protected:
            remove_path(os.path.join(target, name))


def remove_path(path: str) -> None:
    """Delete the file, link or whole directory tree at `path`, if anything is there."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _extract_member(tar: tarfile.TarFile, member: tarfile.TarInfo, root: str,
                    rel: str) -> None:
    target = resolve_in_root(root, rel)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if member.isdir():
        if os.path.lexists(target) and not os.path.isdir(target):
            os.unlink(target)
        if not os.path.isdir(target):
            os.mkdir(target)
    else:
        remove_path(target)
        if member.isfile():
            source = tar.extractfile(member)
            assert source is not None
            with open(target, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
        elif member.issym():
            os.symlink(member.linkname, target)
        elif member.islnk():
            os.link(resolve_in_root(root, member.linkname), target)
        elif member.isfifo():
            os.mkfifo(target)
        elif member.ischr() or member.isblk():
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            try:
                os.mknod(target, kind | 0o600, os.makedev(member.devmajor, member.devminor))
            except PermissionError:
                return  # a device node cannot be made here; the script cannot need it
        else:
            return
    try:
        os.lchown(target, member.uid, member.gid)
    except OSError as exc:
        if exc.errno != 22:  # EINVAL: an owner this user namespace cannot map
            raise
    if not member.issym():
        os.chmod(target, member.mode)


# --- the closure grows with what the root refers to ---------------------------------------

def extend_closure(root: str, closure: Iterable[str],
                   graph: Mapping[str, Sequence[str]] | None, skip: Iterable[str] = ()
                   ) -> set[str]:
    """`closure` plus the closure (in the reference `graph`: path → references) of every
    store path of `graph` that a file, link or name of the root tree refers to — so a
    link or config file a script wrote keeps what it names in the image."""
    result = set(closure)
    if not graph:
        return result
    from ndx.stdlib.store.scan import scan_references

    skipped = {s.strip("/") for s in skip}
    found: set[str] = set()

    def scan(real: str, rel: str) -> None:
        for name in sorted(os.listdir(real)):
            path = f"{rel}/{name}" if rel else name
            if path in skipped:
                continue
            if any(s.startswith(path + "/") for s in skipped):
                scan(os.path.join(real, name), path)
            else:
                found.update(scan_references(os.path.join(real, name), graph))

    scan(root, "")
    todo = list(found - result)
    while todo:
        path = todo.pop()
        if path in result:
            continue
        result.add(path)
        todo.extend(r for r in graph.get(path, ()) if r not in result)
    return result


# --- what a script changed ------------------------------------------------------------------

def fingerprint(st: os.stat_result) -> Fingerprint:
    """Everything about a file a script can change (ctime moves with any change)."""
    return (st.st_ino, st.st_ctime_ns, st.st_mtime_ns, st.st_mode, st.st_uid, st.st_gid,
            st.st_size)


def snapshot(root: str, skip: Iterable[str] = ()) -> dict[str, Fingerprint]:
    """Fingerprints of every path under `root` (relative), except the `skip` subtrees."""
    skipped = {s.strip("/") for s in skip}
    result: dict[str, Fingerprint] = {}

    def walk(real: str, rel: str) -> None:
        with os.scandir(real) as it:
            for entry in it:
                path = f"{rel}/{entry.name}" if rel else entry.name
                if path in skipped:
                    continue
                st = entry.stat(follow_symlinks=False)
                result[path] = fingerprint(st)
                if stat.S_ISDIR(st.st_mode):
                    walk(entry.path, path)

    walk(root, "")
    return result


def changes(before: dict[str, Fingerprint], after: dict[str, Fingerprint]
            ) -> tuple[list[str], list[str]]:
    """(changed or new paths, removed paths) between two snapshots; of a removed tree only
    its top is listed (one whiteout hides it all)."""
    changed = [p for p, fp in after.items() if before.get(p) != fp]
    removed_all = {p for p in before if p not in after}
    removed = sorted(p for p in removed_all if p.rpartition("/")[0] not in removed_all)
    return changed, removed
