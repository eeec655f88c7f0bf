"""Building on a base image: merge the base's image config with ndx's, as `docker build`
does when a Dockerfile starts `FROM base`. The one merge of every image ndx writes
(`buildImage`, `buildLayeredImage`, `streamLayeredImage`; the registry package re-exports
it).

* `Env`: our variables replace the base's of the same name in place; new ones are appended;
* `Entrypoint`/`Cmd`: ours override; setting `Entrypoint` without `Cmd` clears the base's
  `Cmd` (as a Dockerfile `ENTRYPOINT` does);
* `ExposedPorts`, `Volumes`, `Labels`: merged, ours winning on equal keys;
* every other field we set (`User`, `WorkingDir`, `StopSignal`, `Healthcheck`, …) replaces
  the base's; fields we leave out keep the base's value;
* `rootfs.diff_ids` and `history`: the base's first, untouched, then ours.

The base's layers are reused as they are; only the config is new.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ArchiveError

# Container-config fields merged as maps rather than replaced.
MERGED_MAPS = ("ExposedPorts", "Volumes", "Labels")


def _env_key(entry: str) -> str:
    return entry.split("=", 1)[0]


def merge_env(base: Sequence[str], ours: Sequence[str]) -> list[str]:
    """Base variables with ours replacing by name (in the base's order), new ones after."""
    ours_by_key = {_env_key(e): e for e in ours}
    merged = [ours_by_key.pop(_env_key(e), e) for e in base]
    seen = {_env_key(e) for e in merged}
    for entry in ours:
        key = _env_key(entry)
        if key in ours_by_key and key not in seen:
            merged.append(ours_by_key[key])
            seen.add(key)
    return merged


def merge_container_config(base: Mapping[str, Any] | None,
                           ours: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `config` object of an image built on `base` with the settings `ours`."""
    merged: dict[str, Any] = copy.deepcopy(dict(base or {}))
    ours = dict(ours or {})
    if "Env" in ours:
        merged["Env"] = merge_env(merged.get("Env") or [], ours["Env"] or [])
    if "Entrypoint" in ours:
        merged["Entrypoint"] = ours["Entrypoint"]
        if "Cmd" not in ours:
            merged["Cmd"] = None
    if "Cmd" in ours:
        merged["Cmd"] = ours["Cmd"]
    for key in MERGED_MAPS:
        if key in ours:
            combined = dict(merged.get(key) or {})
            combined.update(ours[key] or {})
            merged[key] = combined
    for key, value in ours.items():
        if key not in ("Env", "Entrypoint", "Cmd", *MERGED_MAPS):
            merged[key] = copy.deepcopy(value)
    return {k: v for k, v in merged.items() if v is not None}


def merge_image_config(base: Mapping[str, Any], ours: Mapping[str, Any], *,
                       diff_ids: Sequence[str], history: Sequence[Mapping[str, Any]],
                       created: str | None = None) -> dict[str, Any]:
    """The full image config (`architecture`, `os`, `config`, `rootfs`, `history`, …) of an
    image whose lower layers are `base`'s and whose own layers have `diff_ids`.

    `ours` is the `config` object ndx would write for the image alone; `history` its
    entries for its own layers (one per layer, or `empty_layer` ones for config-only
    steps). Raises `ArchiveError` if the base config lacks `rootfs.diff_ids`."""
    rootfs = base.get("rootfs")
    if not isinstance(rootfs, Mapping) or not isinstance(rootfs.get("diff_ids"), list):
        raise ArchiveError("the base image's config has no rootfs.diff_ids")
    base_diff_ids = list(rootfs["diff_ids"])
    base_history = [dict(h) for h in base.get("history") or []]
    if not base_history:
        # A base without history still gets one entry per layer, so tools that pair
        # history with layers (docker history) keep counting right.
        base_history = [{"created_by": "base image layer"} for _ in base_diff_ids]
    result: dict[str, Any] = {k: copy.deepcopy(v) for k, v in base.items()
                              if k not in ("config", "rootfs", "history", "container",
                                           "container_config", "created", "docker_version",
                                           "id", "parent")}
    result["config"] = merge_container_config(base.get("config"), ours)
    result["rootfs"] = {"type": "layers", "diff_ids": base_diff_ids + list(diff_ids)}
    result["history"] = base_history + [dict(h) for h in history]
    if created is not None:
        result["created"] = created
    elif "created" in base:
        result["created"] = base["created"]
    return result


def image_config(base: Mapping[str, Any] | None, ours: Mapping[str, Any], *,
                 architecture: str, created: str, diff_ids: Sequence[str],
                 history: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The config of an image ndx writes: its own `config` object, layers and history
    alone, or on top of `base` (the base's config JSON) merged as `docker build` does.
    The architecture, OS and creation time are the new image's."""
    if base is None:
        return {"architecture": architecture, "os": "linux", "created": created,
                "config": dict(ours),
                "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
                "history": [dict(h) for h in history]}
    result = merge_image_config(base, ours, diff_ids=diff_ids, history=history,
                                created=created)
    if result.get("architecture") != architecture:
        result.pop("variant", None)  # the base's variant belongs to its architecture
    result["architecture"] = architecture
    result["os"] = "linux"
    return result
