"""Reading an image derivation's arguments: what `builtin:buildImage` (builtin.py) and
`builtin:buildLayeredImage` (layered_builtin.py) both do before they build.

An image derivation carries its arguments as one JSON attribute (with string context, so
every store path it names is an input of the derivation); these helpers parse it, check
argument names, and check that the packages it names really are inputs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import ImageError, did_you_mean

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore
    from ndx.stdlib.store.drv import StoreDerivation

#: A logical store path, as it appears in the arguments' JSON.
STORE_PATH = re.compile(r"/ndx/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+")


def parse_arguments(text: str, *, attr: str, builder: str,
                    known: Mapping[str, str]) -> dict[str, Any]:
    """The arguments in attribute `attr`'s JSON `text`, every name one of `known` and a
    string `name` present; null arguments are dropped (as if not given). `builder` is the
    function the user called, for the messages."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ImageError(f"{attr} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ImageError(f"{attr} must be a JSON object")
    for key in raw:
        if key not in known:
            raise ImageError(f"{builder}: unknown argument '{key}'{did_you_mean(key, known)}")
    if not isinstance(raw.get("name"), str):
        raise ImageError(f"{builder}: the argument 'name' (a string) is required")
    return {k: v for k, v in raw.items() if v is not None}


def store_paths(value: Any, what: str, builder: str = "buildImage") -> list[str]:
    """`value` (one store path, a list of them, or null) as a list, or a clear error."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str) or not STORE_PATH.fullmatch(item):
            raise ImageError(f"{builder}: {what} must be store paths (packages), "
                             f"not {item!r}")
    return list(items)


def input_closure(store: DiskStore, drv: StoreDerivation) -> set[str]:
    """The closure of everything the derivation depends on."""
    roots = set(drv.input_srcs)
    for input_drv, outs in drv.input_drvs.items():
        produced = store.read_derivation(input_drv).output_paths()
        roots.update(produced[o] for o in outs)
    closure: set[str] = store.closure(roots)
    return closure


def check_inputs(paths: list[str], inputs: set[str], builder: str) -> list[str]:
    """`paths` if every one is an input of the derivation (a package, not a string naming
    one), else a clear error."""
    for path in paths:
        if path not in inputs:
            raise ImageError(f"{builder}: {path} is not an input of the derivation "
                             "(pass packages, not strings naming them)")
    return paths


def named_in_config(config: Any, inputs: set[str]) -> set[str]:
    """The input store paths the image's config names (they join the image's closure)."""
    return set(STORE_PATH.findall(json.dumps(config))) & inputs


def from_image_input(value: Any, inputs: set[str], builder: str) -> str | None:
    """The `fromImage` store path, checked to be an input of the derivation."""
    if value is None:
        return None
    (path,) = store_paths(value, "fromImage", builder)
    if path not in inputs:
        raise ImageError(f"{builder}: fromImage {path} is not an input")
    return path
