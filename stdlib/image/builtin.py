"""`builtin:buildImage`: the builder the build engine runs itself for images.

An image is a derivation like any other — cached in the store, rebuilt only when an input
changes, built by `ndx-build` — whose builder is this function. Its one attribute of
substance is `imageSpec`, the JSON of `dockerTools.buildImage`'s arguments (with their
string context, so every store path they name is an input). The builder:

* computes the image's closure from the store database: the closure of `copyToRoot`
  (or `contents`), of the store paths the config names, and — after the scripts ran —
  of the store paths the root tree refers to;
* lets the scripts see the whole closure of the derivation's inputs (a runAsRoot
  script may call `${shadow}/bin/useradd`) without those paths entering the image;
* writes the docker-archive to the output path (a file, like Nix's `result` tarball).
  The default tag is the output path's hash part, as in Nix.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .build import ImageSpec, StoreView, build_image
from .errors import ImageError, did_you_mean

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore
    from ndx.stdlib.store.drv import StoreDerivation

BUILDER = "builtin:buildImage"
#: The derivation attribute holding the arguments as JSON.
SPEC_ATTR = "imageSpec"
#: Host trees runAsRoot's tools come from; they take part in the derivation's hash.
RUN_AS_ROOT_HOST_DEPS = ("/usr/sbin", "/usr/bin/busybox", "/usr/lib")
#: Every argument `imageSpec` may carry, and its Python name.
ARGUMENTS = {
    "name": "name", "tag": "tag", "copyToRoot": "copy_to_root", "contents": "copy_to_root",
    "keepContentsDirlinks": "keep_contents_dirlinks", "runAsRoot": "run_as_root",
    "extraCommands": "extra_commands", "config": "config", "architecture": "architecture",
    "created": "created", "uid": "uid", "gid": "gid", "compressor": "compressor",
    "compressionLevel": "compression_level", "fromImage": "from_image",
    "fromImageName": "from_image_name", "fromImageTag": "from_image_tag", "users": "users",
    "format": "format",
}

_STORE_PATH = re.compile(r"/ndx/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+")


def parse_spec(text: str) -> dict[str, Any]:
    """The arguments from `imageSpec`, checked for unknown names."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ImageError(f"{SPEC_ATTR} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ImageError(f"{SPEC_ATTR} must be a JSON object")
    for key in raw:
        if key not in ARGUMENTS:
            raise ImageError(f"buildImage: unknown argument '{key}'"
                             f"{did_you_mean(key, ARGUMENTS)}")
    if "name" not in raw or not isinstance(raw["name"], str):
        raise ImageError("buildImage: the argument 'name' (a string) is required")
    return {k: v for k, v in raw.items() if v is not None}


def _paths(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str) or not _STORE_PATH.fullmatch(item):
            raise ImageError(f"buildImage: {what} must be store paths (packages), "
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


def spec_from_derivation(store: DiskStore, drv: StoreDerivation, out_path: str) -> ImageSpec:
    """The `ImageSpec` a derivation asks for, with its closure from the store database."""
    args = parse_spec(drv.env.get(SPEC_ATTR, ""))
    inputs = input_closure(store, drv)
    copy = _paths(args.get("copyToRoot"), "copyToRoot") + _paths(args.get("contents"),
                                                                "contents")
    for path in copy:
        if path not in inputs:
            raise ImageError(f"buildImage: {path} is not an input of the derivation "
                             "(pass packages, not strings naming them)")
    config_text = json.dumps(args.get("config"))
    named = {p for p in _STORE_PATH.findall(config_text)} & inputs
    closure = store.closure(set(copy) | named)
    from_image = args.get("fromImage")
    if from_image is not None:
        (from_image,) = _paths(from_image, "fromImage")
        if from_image not in inputs:
            raise ImageError(f"buildImage: fromImage {from_image} is not an input")
        from_image = store.real_path(from_image)
    graph = {p: sorted(store.references(p)) for p in inputs}
    kwargs: dict[str, Any] = {ARGUMENTS[k]: v for k, v in args.items()
                              if k not in ("copyToRoot", "contents", "fromImage")}
    kwargs.setdefault("tag", os.path.basename(out_path)[:32])
    from .provenance import collect

    return ImageSpec(**kwargs, closure=sorted(closure), copy_to_root=copy,
                     from_image=from_image, script_paths=sorted(inputs), reference_graph=graph,
                     provenance=collect(store, inputs))


def builtin_build_image(store: DiskStore, drv_path: str, drv: StoreDerivation, out: str,
                        log: Callable[[str], None], fetched: Callable[[int], None],
                        check_cancel: Callable[[], None]) -> None:
    """Build the image derivation `drv` into `out` (the output's temporary location)."""
    from ndx.stdlib.store.errors import BuildError

    out_path = drv.output_paths()["out"]
    try:
        spec = spec_from_derivation(store, drv, out_path)
        log(f"building image {spec.name}:{spec.tag} from {len(spec.closure)} store paths")
        # Staged in the system's temporary directory: an unprivileged extraCommands must
        # be able to enter it, which the store's private build area does not allow.
        image = build_image(spec, StoreView(store.physical_dir, store.store_dir), out)
    except ImageError as exc:
        raise BuildError(f"'{drv_path}': {exc}", drv_path) from None
    log(f"wrote {image.repo_tags[0]} ({len(image.layers)} layers, id {image.config_digest})")
    check_cancel()


def image_attrs(spec: Mapping[str, Any], *, name: str | None = None) -> dict[str, str]:
    """The derivation attributes of an image (what `dockerTools.buildImage` produces in
    ndx): for Python callers and tests; `spec` uses the ndx argument names."""
    image_name = str(spec.get("name", "image"))
    attrs = {"name": name or f"docker-image-{image_name.replace('/', '-')}.tar",
             "system": "builtin", "builder": BUILDER, SPEC_ATTR: json.dumps(spec, sort_keys=True)}
    if spec.get("runAsRoot"):
        attrs["__impureHostDeps"] = " ".join(RUN_AS_ROOT_HOST_DEPS)
    return attrs
