"""Provenance: which store paths an image holds, with their package names, versions and
sources, carried in the image config's labels so it travels with the image (through
`docker save`, registries, `skopeo copy`) — and read back for `ndx image sbom`.

The label `org.ndx.closure` holds compact JSON, a list sorted by store path:

    [{"path": "/ndx/store/…-redis-7.0.15", "pname": "redis", "version": "7.0.15",
      "source": "https://…/7.0.15.tar.gz", "references": [3, 7]}, …]

`references` are indexes into the same list (the closure's edges, for SBOM dependency
relationships); `source` is present when the path's derivation fetched its `src` from a
URL. Names and versions come from the deriving derivation's `pname`/`version`, else from
the store path's name split as Nix's `parseDrvName` does ("foo-bar-1.2" → "foo-bar",
"1.2": the version starts at the first dash followed by a non-letter).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ImageError
from .image_format import canonical_json
from .layering import package_name

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore

#: The config label holding the provenance list.
LABEL = "org.ndx.closure"

_VERSION_START = re.compile(r"-(?=[^A-Za-z])")


def parse_drv_name(name: str) -> tuple[str, str]:
    """(name, version) from a package name, as Nix's `builtins.parseDrvName`."""
    match = _VERSION_START.search(name)
    if match is None:
        return name, ""
    return name[:match.start()], name[match.end():]


def package_info(store: DiskStore, path: str) -> dict[str, str]:
    """`pname`, `version` and (when known) `source` of store path `path`."""
    pname, version = parse_drv_name(package_name(path))
    info = {"pname": pname, "version": version}
    env = _deriver_env(store, path)
    if env is not None:
        if env.get("pname"):
            info["pname"] = env["pname"]
            info["version"] = env.get("version", "")
        elif env.get("name"):
            info["pname"], info["version"] = parse_drv_name(env["name"])
        if env.get("version") and not info["version"]:
            info["version"] = env["version"]
        source = _source_url(store, env.get("src", ""))
        if source:
            info["source"] = source
    return info


def _deriver_env(store: DiskStore, path: str) -> Mapping[str, str] | None:
    try:
        for drv_path, _output in store.derivers(path):
            return store.read_derivation(drv_path).env
    except Exception:  # noqa: BLE001 - a deriver that is gone leaves the name to go by
        return None
    return None


def _source_url(store: DiskStore, src: str) -> str | None:
    first = src.split()[0] if src.split() else ""
    if not first.startswith(store.store_dir + "/"):
        return None
    env = _deriver_env(store, first)
    if env is None:
        return None
    url = env.get("url") or (env.get("urls") or "").split(" ")[0]
    return url or None


def collect(store: DiskStore, paths: Iterable[str]) -> dict[str, dict[str, str]]:
    """`package_info` of every path in `paths`."""
    return {path: package_info(store, path) for path in sorted(set(paths))}


def closure_label(closure: Iterable[str], graph: Mapping[str, Iterable[str]] | None,
                  info: Mapping[str, Mapping[str, str]]) -> str:
    """The label value for an image holding exactly the store paths `closure`."""
    paths = sorted(set(closure))
    index = {p: i for i, p in enumerate(paths)}
    entries = []
    for path in paths:
        known = info.get(path)
        pname, version = parse_drv_name(package_name(path))
        entry: dict[str, Any] = {"path": path,
                                 "pname": known.get("pname", pname) if known else pname,
                                 "version": known.get("version", version) if known else version}
        if known and known.get("source"):
            entry["source"] = known["source"]
        refs = sorted(index[r] for r in (graph or {}).get(path, ()) if r in index and r != path)
        entry["references"] = refs
        entries.append(entry)
    return canonical_json(entries).decode()


def read_label(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The provenance list of an image config (the full config JSON); an image without
    the label is an error that says so."""
    labels = ((config.get("config") or {}).get("Labels")) or {}
    text = labels.get(LABEL)
    if text is None:
        raise ImageError(f"the image carries no '{LABEL}' label: it was not built by ndx "
                         "(or by an ndx before provenance labels)")
    try:
        value = json.loads(text)
    except ValueError:
        raise ImageError(f"the '{LABEL}' label is not valid JSON") from None
    if not isinstance(value, list) or not all(isinstance(e, dict) and "path" in e
                                              for e in value):
        raise ImageError(f"the '{LABEL}' label is not a list of store paths")
    return value
