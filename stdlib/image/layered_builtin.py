"""`builtin:buildLayeredImage` and `builtin:streamLayeredImage`: the builders the build
engine runs itself for layered images.

A layered image's derivation carries its arguments as one JSON attribute,
`layeredImageSpec` (with their string context, so every store path they name is an
input), plus `output`: "archive" (the image, a docker-archive or with `format = "oci"`
an OCI layout directory) or "stream-conf" (the configuration a streamed image is made
from). The builder reads the closure, the references and the NAR hashes from the store
database, the packages' names and versions from their derivations, and calls
`layered.py` with the store's layer cache.

`builtin:streamLayeredImage` writes the small script `streamLayeredImage` returns: run,
it streams the image of its configuration to standard output (see `stream.py`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .builder_steps import StoreView
from .derivation_args import (
    STORE_PATH,
    check_inputs,
    from_image_input,
    input_closure,
    named_in_config,
    parse_arguments,
    store_paths,
)
from .errors import ImageError
from .layercache import LayerCache
from .layered import LayeredSpec, build_layered_image, write_stream_conf
from .provenance import collect
from .spec_names import LAYERED_ARGUMENTS, LAYERED_BUILDER, LAYERED_SPEC_ATTR

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore
    from ndx.stdlib.store.drv import StoreDerivation

BUILDER = LAYERED_BUILDER
#: The function the user called, for messages.
BUILDER_NAME = "buildLayeredImage"
SPEC_ATTR = LAYERED_SPEC_ATTR
ARGUMENTS = LAYERED_ARGUMENTS
#: What the builder makes: the image itself, or a streamed image's configuration.
OUTPUTS = ("archive", "stream-conf")


def parse_spec(text: str) -> dict[str, Any]:
    """The arguments from `layeredImageSpec`, checked for unknown names."""
    return parse_arguments(text, attr=SPEC_ATTR, builder=BUILDER_NAME, known=ARGUMENTS)


def spec_from_derivation(store: DiskStore, drv: StoreDerivation, tag: str) -> LayeredSpec:
    """The `LayeredSpec` a derivation asks for, filled in from the store database."""
    args = parse_spec(drv.env.get(SPEC_ATTR, ""))
    inputs = input_closure(store, drv)
    contents = check_inputs(store_paths(args.get("contents"), "contents", BUILDER_NAME),
                            inputs, BUILDER_NAME)
    closure = store.closure(set(contents) | named_in_config(args.get("config"), inputs))
    from_image = from_image_input(args.get("fromImage"), inputs, BUILDER_NAME)
    kwargs: dict[str, Any] = {ARGUMENTS[k]: v for k, v in args.items()
                              if k not in ("contents", "fromImage")}
    kwargs.setdefault("tag", tag)
    return LayeredSpec(
        **kwargs, contents=contents, closure=sorted(closure), from_image=from_image,
        graph={p: sorted(store.references(p)) for p in inputs},
        script_paths=sorted(inputs),
        nar_hashes={p: store.path_info(p).nar_hash for p in inputs},
        provenance=collect(store, inputs))


def builtin_build_layered_image(store: DiskStore, drv_path: str, drv: StoreDerivation,
                                out: str, log: Callable[[str], None],
                                fetched: Callable[[int], None],
                                check_cancel: Callable[[], None]) -> None:
    """Build the layered image (or a streamed image's configuration) `drv` into `out`."""
    from ndx.stdlib.store.errors import BuildError

    out_path = drv.output_paths()["out"]
    output = drv.env.get("output", "archive")
    try:
        if output not in OUTPUTS:
            raise ImageError(f"unknown output {output!r} (use one of {', '.join(OUTPUTS)})")
        spec = spec_from_derivation(store, drv, os.path.basename(out_path)[:32])
        view = StoreView(store.physical_dir, store.store_dir)
        cache = LayerCache.for_store(store.state_dir)
        log(f"building layered image {spec.name}:{spec.tag} from {len(spec.closure)} "
            "store paths")
        if output == "stream-conf":
            image = write_stream_conf(spec, view, out, cache, log=log)
        else:
            image = build_layered_image(spec, view, out, cache, log=log)
    except ImageError as exc:
        raise BuildError(f"'{drv_path}': {exc}", drv_path) from None
    log(f"wrote {image.repo_tags[0]} ({len(image.layers)} layers, id {image.config_digest})")
    check_cancel()


# --- the stream script ------------------------------------------------------------------

#: The script: finds the Python that has ndx (NDX_PYTHON, the interpreter of the `ndx`
#: command on PATH, python3) and runs the streamer on the configuration next to it in the
#: store — wherever the store physically is.
STREAM_SCRIPT = """#!/bin/sh
# {repo_tag}: writes this layered image to standard output, as a docker-archive that is
# also an OCI layout. Use:   "$0" | docker load      or      "$0" | podman load
# Built by ndx's streamLayeredImage; runs `python3 -m ndx.stdlib.image.stream` with the
# Python that has ndx (set NDX_PYTHON if the `ndx` command is not on PATH).
set -eu
conf={conf}
here=$(dirname -- "$(readlink -f -- "$0")")
ndx_command=$(command -v ndx 2>/dev/null || true)
ndx_python=
if [ -n "$ndx_command" ]; then
    ndx_python=$(sed -n '1s/^#![[:space:]]*//p' "$ndx_command")
fi
for python in ${{NDX_PYTHON:-}} $ndx_python python3; do
    if "$python" -c 'import ndx.stdlib.image.stream' 2>/dev/null; then
        exec "$python" -m ndx.stdlib.image.stream "$here/${{conf##*/}}" "$@"
    fi
done
echo "error: no Python with ndx found: put the ndx command on PATH or set NDX_PYTHON" >&2
exit 1
"""


def stream_script(conf: str, repo_tag: str) -> str:
    """The text of the stream script for configuration store path `conf`."""
    if not STORE_PATH.fullmatch(conf):
        raise ImageError(f"streamLayeredImage: {conf!r} is not a store path")
    if not all(c.isalnum() or c in "/:._-" for c in repo_tag):
        raise ImageError(f"streamLayeredImage: odd image name {repo_tag!r}")
    return STREAM_SCRIPT.format(conf=conf, repo_tag=repo_tag)


def builtin_stream_layered_image(store: DiskStore, drv_path: str, drv: StoreDerivation,
                                 out: str, log: Callable[[str], None],
                                 fetched: Callable[[int], None],
                                 check_cancel: Callable[[], None]) -> None:
    """Write the stream script of derivation `drv` (attributes `conf`, `imageName`)."""
    from ndx.stdlib.store.errors import BuildError

    from .stream import load_conf

    try:
        conf = drv.env.get("conf", "")
        if not store.is_valid(conf):
            raise ImageError(f"streamLayeredImage: the configuration {conf!r} is not valid")
        image, _ = load_conf(store.real_path(conf))
        text = stream_script(conf, image.repo_tags[0])
    except ImageError as exc:
        raise BuildError(f"'{drv_path}': {exc}", drv_path) from None
    with open(out, "w") as f:
        f.write(text)
    os.chmod(out, 0o755)
    log(f"wrote the stream script of {image.repo_tags[0]}")
    check_cancel()
