"""File-system chores of the store: making registered paths canonical (read-only,
mtime 1, no setuid bits) and removing read-only trees."""

from __future__ import annotations

import os
import shutil
import stat

CANONICAL_MTIME = 1
"""Every registered file's mtime (Nix uses 1 so that make & co never see a future time)."""


def canonicalize(path: str) -> None:
    """Make the tree at `path` canonical, bottom-up: directories and executables 0555,
    other files 0444, mtime 1, no setuid/setgid/sticky bits. Raises ValueError for file
    types a store path cannot hold."""
    st = os.lstat(path)
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        for name in os.listdir(path):
            canonicalize(os.path.join(path, name))
        # Keep the directory writable until its children are done, then seal it.
        os.chmod(path, 0o555)
    elif stat.S_ISREG(mode):
        os.chmod(path, 0o555 if mode & stat.S_IXUSR else 0o444)
    elif not stat.S_ISLNK(mode):
        raise ValueError(f"'{path}' is a special file (device, socket or pipe); "
                         "a build output may hold only files, directories and symlinks")
    os.utime(path, (CANONICAL_MTIME, CANONICAL_MTIME), follow_symlinks=False)


def make_writable(path: str) -> None:
    """Give the owner write permission on every directory of the tree at `path`."""
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        if not st.st_mode & stat.S_IWUSR or not st.st_mode & stat.S_IXUSR:
            os.chmod(path, st.st_mode | stat.S_IRWXU)
        for name in os.listdir(path):
            make_writable(os.path.join(path, name))


def remove_tree(path: str) -> None:
    """Delete the file or tree at `path` (read-only or not); a missing path is fine."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    make_writable(path)
    shutil.rmtree(path)


def tree_size(path: str) -> int:
    """Bytes of regular files under `path` (for reports)."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        return st.st_size if stat.S_ISREG(st.st_mode) else 0
    total = 0
    for directory, _dirs, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(directory, name)).st_size
    return total
