"""Comparing two file trees bit for bit (for `--check`), naming the first difference."""

from __future__ import annotations

import filecmp
import os
import stat


def first_difference(a: str, b: str, rel: str = "") -> str | None:
    """A description of the first difference between trees `a` and `b` (in sorted walk
    order), or None when they are identical as a NAR would see them."""
    where = rel or "the top"
    sa, sb = os.lstat(a), os.lstat(b)
    ta, tb = stat.S_IFMT(sa.st_mode), stat.S_IFMT(sb.st_mode)
    if ta != tb:
        return f"{where}: one is {_kind(ta)}, the other {_kind(tb)}"
    if stat.S_ISLNK(sa.st_mode):
        if os.readlink(a) != os.readlink(b):
            return f"{where}: symlink targets differ"
        return None
    if stat.S_ISREG(sa.st_mode):
        if bool(sa.st_mode & stat.S_IXUSR) != bool(sb.st_mode & stat.S_IXUSR):
            return f"{where}: executable bit differs"
        if sa.st_size != sb.st_size or not filecmp.cmp(a, b, shallow=False):
            return f"{where}: contents differ"
        return None
    names_a, names_b = sorted(os.listdir(a)), sorted(os.listdir(b))
    if names_a != names_b:
        only = min(set(names_a) ^ set(names_b))
        side = "the new build" if only in names_b else "the existing output"
        return f"{os.path.join(rel, only) or only}: only in {side}"
    for name in names_a:
        found = first_difference(os.path.join(a, name), os.path.join(b, name),
                                 os.path.join(rel, name))
        if found:
            return found
    return None


def _kind(fmt: int) -> str:
    return {stat.S_IFREG: "a file", stat.S_IFDIR: "a directory",
            stat.S_IFLNK: "a symlink"}.get(fmt, "a special file")
