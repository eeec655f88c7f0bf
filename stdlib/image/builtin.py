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
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .build import ImageSpec, build_image
from .builder_steps import StoreView
from .derivation_args import (
    check_inputs,
    from_image_input,
    input_closure,
    named_in_config,
    parse_arguments,
    store_paths,
)
from .errors import ImageError
from .spec_names import ARGUMENTS, BUILDER, RUN_AS_ROOT_HOST_DEPS, SPEC_ATTR

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore
    from ndx.stdlib.store.drv import StoreDerivation


def parse_spec(text: str) -> dict[str, Any]:
    """The arguments from `imageSpec`, checked for unknown names."""
    return parse_arguments(text, attr=SPEC_ATTR, builder="buildImage", known=ARGUMENTS)


def spec_from_derivation(store: DiskStore, drv: StoreDerivation, out_path: str) -> ImageSpec:
    """The `ImageSpec` a derivation asks for, with its closure from the store database."""
    args = parse_spec(drv.env.get(SPEC_ATTR, ""))
    inputs = input_closure(store, drv)
    copy = check_inputs(store_paths(args.get("copyToRoot"), "copyToRoot")
                        + store_paths(args.get("contents"), "contents"), inputs, "buildImage")
    closure = store.closure(set(copy) | named_in_config(args.get("config"), inputs))
    from_image = from_image_input(args.get("fromImage"), inputs, "buildImage")
    if from_image is not None:
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
