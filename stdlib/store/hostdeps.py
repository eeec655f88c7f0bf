"""A cheap fingerprint of the host trees a derivation may use (`__impureHostDeps`).

The fingerprint takes part in the derivation's hash, so upgrading the host's compiler
rebuilds what was compiled with it. Where dpkg manages the system its status database
changes whenever any package does, which is cheap to hash and errs on the side of
rebuilding; elsewhere the named trees' metadata (names, sizes, modes, mtimes) is hashed.
Computed once per process for each list of trees.
"""

from __future__ import annotations

import functools
import hashlib
import os

from .encoding import nix_base32

DPKG_STATUS = "/var/lib/dpkg/status"


@functools.cache
def host_fingerprint(paths: tuple[str, ...]) -> str:
    """A digest standing for the current contents of the host trees `paths`."""
    hasher = hashlib.sha256()
    hasher.update(("\0".join(paths) + "\0").encode())
    if os.path.isfile(DPKG_STATUS):
        hasher.update(b"dpkg-status\0")
        with open(DPKG_STATUS, "rb") as status:
            while chunk := status.read(1 << 20):
                hasher.update(chunk)
    else:
        for path in paths:
            _hash_metadata(hasher, path)
    return "sha256:" + nix_base32(hasher.digest())


def _hash_metadata(hasher: hashlib._Hash, root: str) -> None:
    try:
        st = os.lstat(root)
    except OSError:
        hasher.update(f"missing {root}\0".encode())
        return
    hasher.update(f"{root} {st.st_mode:o} {st.st_size} {st.st_mtime_ns}\0".encode())
    if not os.path.isdir(root) or os.path.islink(root):
        return
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files) + dirs:
            path = os.path.join(directory, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            hasher.update(f"{path} {st.st_mode:o} {st.st_size} {st.st_mtime_ns}\0".encode())
