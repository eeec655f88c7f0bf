"""The builder's environment: exactly the derivation's attributes plus a few fixed
variables, with output placeholders replaced and `passAsFile` / `exportReferencesGraph`
turned into files in the build directory."""

from __future__ import annotations

import json
import os
import shlex
from typing import TYPE_CHECKING, Any

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
    if "__json" in drv.env:
        env.update(_structured_attrs(store, drv_path, drv, build_top, host_build_dir, inputs))
    else:
        as_file = set(drv.env.get("passAsFile", "").split())
        for key, value in drv.env.items():
            value = rewrite_placeholders(value, outputs)
            if key in as_file:
                name = ".attr-" + nix_base32(sha256(key))
                with open(os.path.join(host_build_dir, name), "w", encoding="utf-8",
                          errors="surrogateescape") as file:
                    file.write(value)
                env[key + "Path"] = f"{build_top}/{name}"
            else:
                env[key] = value
        _export_references_graph(store, drv_path, drv, host_build_dir, inputs)
    env["NDX_BUILD_TOP"] = build_top
    env["TMPDIR"] = build_top
    if drv.is_fixed_output:
        for name in drv.attr_list("impureEnvVars"):
            if name in os.environ:
                env[name] = os.environ[name]
    return env


def _structured_attrs(store: DiskStore, drv_path: str, drv: StoreDerivation,
                      build_top: str, host_build_dir: str, inputs: set[str]) -> dict[str, str]:
    """`__structuredAttrs = true`: the attributes go to `.attrs.json` (with `outputs` as
    a name → path set, and `exportReferencesGraph` entries replaced by closure
    descriptions) and `.attrs.sh` (bash declarations); the environment gets only the
    output paths and the two files' locations."""
    outputs = drv.output_paths()
    attrs: dict[str, Any] = json.loads(rewrite_placeholders(drv.env["__json"], outputs))
    attrs["outputs"] = dict(outputs)
    graph = attrs.get("exportReferencesGraph")
    if isinstance(graph, dict):
        for key, roots in graph.items():
            roots = [roots] if isinstance(roots, str) else roots
            attrs[key] = _closure_json(store, drv_path, roots, inputs)
    with open(os.path.join(host_build_dir, ".attrs.json"), "w") as file:
        json.dump(attrs, file, indent=2, sort_keys=True)
    with open(os.path.join(host_build_dir, ".attrs.sh"), "w") as file:
        file.write(_bash_declarations(attrs))
    return {**outputs, "NIX_ATTRS_JSON_FILE": f"{build_top}/.attrs.json",
            "NIX_ATTRS_SH_FILE": f"{build_top}/.attrs.sh"}


def _closure_json(store: DiskStore, drv_path: str, roots: list[Any],
                  inputs: set[str]) -> list[dict[str, Any]]:
    closure: set[str] = set()
    for root in roots:
        try:
            path = to_store_path(str(root))
        except ValueError:
            raise BuildError(f"'{drv_path}': exportReferencesGraph names '{root}', which is "
                             "not a store path", drv_path) from None
        if path not in inputs:
            raise BuildError(f"'{drv_path}': exportReferencesGraph names '{path}', which is "
                             "not an input of the derivation", drv_path)
        closure |= store.closure([path])
    result = []
    for path in sorted(closure):
        info = store.path_info(path)
        result.append({"path": path, "narHash": info.nar_hash, "narSize": info.nar_size,
                       "references": sorted(info.references),
                       "closureSize": sum(store.path_info(p).nar_size
                                          for p in store.closure([path]))})
    return result


def _bash_declarations(attrs: dict[str, Any]) -> str:
    """`.attrs.sh`: strings, numbers and booleans as variables, lists of those as
    arrays, sets of those as associative arrays; anything else is left to `.attrs.json`."""

    def scalar(value: Any) -> str | None:
        if isinstance(value, bool):
            return "1" if value else ""
        if isinstance(value, (str, int, float)):
            return str(value)
        return None

    lines = []
    for key in sorted(attrs):
        if not key.replace("_", "a").isalnum() or key[0].isdigit():
            continue
        value = attrs[key]
        if scalar(value) is not None:
            lines.append(f"declare {key}={shlex.quote(scalar(value) or '')}")
        elif isinstance(value, list) and all(scalar(v) is not None for v in value):
            items = " ".join(shlex.quote(scalar(v) or "") for v in value)
            lines.append(f"declare -a {key}=({items})")
        elif isinstance(value, dict) and all(scalar(v) is not None for v in value.values()):
            items = " ".join(f"[{shlex.quote(k)}]={shlex.quote(scalar(v) or '')}"
                             for k, v in sorted(value.items()))
            lines.append(f"declare -A {key}=({items})")
    return "".join(line + "\n" for line in lines)


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
