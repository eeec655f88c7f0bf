"""Running a command where `/ndx/store` is a temporary store, as the builds see it."""

from __future__ import annotations

import os


def with_logical_store(physical: str, argv: list[str]) -> list[str]:
    """`argv` run where /ndx/store is `physical` and the rest of the host is visible —
    in a private mount namespace on a fresh root, so nothing is created on the host."""
    cmd = ["bwrap", "--dev", "/dev", "--proc", "/proc"]
    for entry in sorted(os.listdir("/")):
        path = "/" + entry
        if entry in ("dev", "proc", "sys", "ndx"):
            continue
        if os.path.islink(path):
            cmd += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            cmd += ["--dev-bind", path, path]
    cmd += ["--bind", physical, "/ndx/store", "--", *argv]
    return cmd
