"""The steps `build_image` (build.py) and `build_layered_image` (layered.py) share: where
the store's bytes are, checking the common arguments, running extraCommands unprivileged,
the store-path part of a layer, and writing the finished image atomically.

Kept apart from both builders so a fix to, say, how extraCommands drops privileges
reaches every image kind at once.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .archive_writer import write_docker_archive, write_oci_layout
from .config import check_architecture, check_config, host_architecture, resolve_created
from .errors import ImageError, did_you_mean
from .image_model import BlobFiles, Image, Layer
from .layer import Entry, LayerContents
from .spec_names import COMPRESSORS, FORMATS

#: The user extraCommands runs as when ndx runs as root: it must not need privileges.
NOBODY = 65534


@dataclass(frozen=True)
class StoreView:
    """Where the store's bytes are: `store_dir` is the logical directory every store path
    starts with (`/ndx/store`), `real_dir` where that directory is on this machine."""

    real_dir: str
    store_dir: str = "/ndx/store"

    def real(self, path: str) -> str:
        """The host path of logical store path `path` (or of a file inside one)."""
        if path == self.store_dir or path.startswith(self.store_dir + "/"):
            return self.real_dir + path[len(self.store_dir):]
        raise ImageError(f"{path} is not in the store ({self.store_dir})")

    def check(self, path: str, what: str) -> str:
        """`path` if it is an existing top-level store path, else a clear error."""
        rest = path[len(self.store_dir) + 1:] if path.startswith(self.store_dir + "/") else ""
        if not rest or "/" in rest:
            raise ImageError(f"{what}: {path!r} is not a store path "
                             f"({self.store_dir}/<hash>-<name>)")
        if not os.path.lexists(self.real(path)):
            raise ImageError(f"{what}: {path} does not exist in the store "
                             f"(looked in {self.real(path)})")
        return path


@dataclass(frozen=True)
class Settings:
    """The checked arguments every image kind has: its config section, creation time and
    architecture."""

    config: dict[str, Any]
    created: str
    architecture: str


def check_settings(format: str, config: Mapping[str, Any] | None, created: str | None,
                   architecture: str | None) -> Settings:
    """The output format checked, and the config, `created` and architecture resolved."""
    if format not in FORMATS:
        raise ImageError(f"format = {format!r}: use \"docker-archive\" or \"oci\"")
    return Settings(check_config(config), resolve_created(created),
                    check_architecture(architecture) if architecture else host_architecture())


def compression_of(compressor: str) -> str | None:
    """The layer compression for a `compressor` argument ("gz", "zstd", "none")."""
    if compressor not in COMPRESSORS:
        raise ImageError(f"unknown compressor {compressor!r}"
                         f"{did_you_mean(compressor, COMPRESSORS)}; use \"gz\", \"zstd\" or "
                         "\"none\"")
    return COMPRESSORS[compressor]


def base_image_name(name: str | None, tag: str | None) -> str | None:
    """Which image of a multi-image base archive `fromImageName`/`fromImageTag` pick
    (None: the archive's only image)."""
    if name is None and tag is None:
        return None
    if name is None:
        raise ImageError("fromImageTag is given without fromImageName")
    return f"{name}:{tag or 'latest'}"


def add_store_paths(contents: LayerContents, paths: Sequence[str], store: StoreView,
                    uid: int, gid: int) -> None:
    """Add the `/ndx/store/<path>` trees of `paths`, and the store directory's parents
    where `contents` lacks them."""
    parts = store.store_dir.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        rel = "/".join(parts[:i])
        if rel not in contents:
            contents.add(Entry(rel, "dir", 0o755))
    for path in sorted(paths):
        contents.add_tree(store.real(path), path.strip("/"), owner=(uid, gid))


def layer_from_result(result: Mapping[str, Any]) -> Layer:
    """The layer a runAsRoot / fakeRootCommands job reports it wrote."""
    return Layer(result["diff_id"], result["digest"], result["size"], result["media_type"])


def run_extra_commands(script: str, root: str, env: Mapping[str, str]) -> None:
    """Run extraCommands in the layer's directory, unprivileged: as the invoking user, or
    as nobody when that is root (the directory is lent to nobody for the time of the
    script and given back to root afterwards; owners in the layer are `uid`/`gid`)."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": root, **env}
    argv = ["sh", "-e", "-c", script]
    as_root = os.geteuid() == 0
    if as_root:
        _chown_tree(root, NOBODY, NOBODY)
        argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--",
                *argv]
    try:
        proc = subprocess.run(argv, cwd=root, env=full_env, capture_output=True, text=True,
                              check=False)
    finally:
        if as_root:
            _chown_tree(root, 0, 0)
    if proc.returncode != 0:
        log = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        raise ImageError(f"extraCommands failed with exit code {proc.returncode}"
                         + (f"\n--- log ---\n{log}" if log else ""))


def _chown_tree(root: str, uid: int, gid: int) -> None:
    os.lchown(root, uid, gid)
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            os.lchown(os.path.join(directory, name), uid, gid)


def write_image(image: Image, blobs: BlobFiles, out_path: str, format: str, *,
                link_blobs: bool = False) -> None:
    """Write `image` to `out_path` as a docker-archive (also an OCI layout) or, with
    `format = "oci"`, an OCI layout directory; it appears there whole or not at all.
    `link_blobs`: the blob files are immutable, so the layout may hard-link them."""
    partial = out_path + ".partial"
    if format == "oci":
        write_oci_layout(partial, [image], blobs, link_blobs=link_blobs)
    else:
        with open(partial, "wb") as out:
            write_docker_archive(out, [image], blobs, oci=True)
    os.replace(partial, out_path)
