"""The builder's environment: exactly the derivation's attributes plus a few fixed
variables, with output placeholders replaced and `passAsFile` / `exportReferencesGraph`
turned into files in the build directory."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ndx.stdlib.store.drv import StoreDerivation
from ndx.stdlib.store.encoding import nix_base32, sha256
from ndx.stdlib.store.errors import BuildError
from ndx.stdlib.store.paths import placeholder, to_store_path

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore


def rewrite_placeholders(text: str, outputs: dict[str, str]) -> str:
    """Replace each `builtins.placeholder "<output>"` in `text` by that output's path."""
    for name, path in outputs.items():
        mark = placeholder(name)
        if mark in text:
            text = text.replace(mark, path)
    return text


def builder_environment(store: DiskStore, drv_path: str, drv: StoreDerivation,
                        build_top: str, host_build_dir: str, inputs: set[str],
                        cores: int) -> dict[str, str]:
    """The environment for `drv`'s builder. `build_top` is the build directory as the
    builder sees it, `host_build_dir` where it is on the host (files are written there);
    `inputs` is the input closure (what `exportReferencesGraph` may name)."""
    outputs = drv.output_paths()
    env = {"PATH": "/path-not-set", "HOME": "/homeless-shelter",
           "NIX_BUILD_CORES": str(cores), "SOURCE_DATE_EPOCH": "1", "TZ": "UTC"}
    as_file = set(drv.env.get("passAsFile", "").split())
    for key, value in drv.env.items():
        value = rewrite_placeholders(value, outputs)
        if key in as_file:
            name = ".attr-" + nix_base32(sha256(key))
            with open(os.path.join(host_build_dir, name), "w") as file:
                file.write(value)
            env[key + "Path"] = f"{build_top}/{name}"
        else:
            env[key] = value
    env["NDX_BUILD_TOP"] = build_top
    env["TMPDIR"] = build_top
    if drv.is_fixed_output:
        for name in drv.env.get("impureEnvVars", "").split():
            if name in os.environ:
                env[name] = os.environ[name]
    _export_references_graph(store, drv_path, drv, host_build_dir, inputs)
    return env


def _export_references_graph(store: DiskStore, drv_path: str, drv: StoreDerivation,
                             host_build_dir: str, inputs: set[str]) -> None:
    """Write, for each `name path` pair of `exportReferencesGraph`, a file `name` with the
    closure of `path` in Nix's registration format: per path its name, its deriver line
    (empty), its number of references and the references."""
    words = drv.env.get("exportReferencesGraph", "").split()
    if len(words) % 2:
        raise BuildError(f"'{drv_path}': exportReferencesGraph must list pairs of a file "
                         "name and a store path", drv_path)
    for file_name, path in zip(words[::2], words[1::2]):
        if "/" in file_name or file_name in (".", ".."):
            raise BuildError(f"'{drv_path}': exportReferencesGraph file name '{file_name}' "
                             "is not a plain file name", drv_path)
        try:
            root = to_store_path(path)
        except ValueError:
            raise BuildError(f"'{drv_path}': exportReferencesGraph names '{path}', which "
                             "is not a store path", drv_path) from None
        if root not in inputs:
            raise BuildError(f"'{drv_path}': exportReferencesGraph names '{root}', which is "
                             "not an input of the derivation", drv_path)
        lines: list[str] = []
        for member in sorted(store.closure([root])):
            refs = sorted(store.references(member))
            lines += [member, "", str(len(refs)), *refs]
        with open(os.path.join(host_build_dir, file_name), "w") as file:
            file.write("".join(line + "\n" for line in lines))
