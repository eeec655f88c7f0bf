"""The `buildLayeredImage` and `streamLayeredImage` builtins: check their arguments at
evaluation time (Nix's dockerTools names) and turn them into derivations.

* `buildLayeredImage { … }` — one derivation (`builtin:buildLayeredImage`) whose output is
  the image: a docker-archive that is also an OCI layout, or with `format = "oci"` an
  OCI layout directory.
* `streamLayeredImage { … }` — two: the configuration (`stream-<name>-conf`, the same
  builder asked for "stream-conf": the image config with every diff ID, the layer
  recipes and the small customisation layer) and the script (`stream-<name>`,
  `builtin:streamLayeredImage`) that writes the image to standard output:
  `$(ndx-build … -A image) | docker load`. The tarball never lands in the store.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ndx.evaluator.builtins.registry import builtin
from ndx.evaluator.coerce import expect_attrs
from ndx.evaluator.context import EvalContext
from ndx.evaluator.errors import EvalError
from ndx.evaluator.runtime import apply
from ndx.evaluator.values import ContextString, force, string_text

from .config import check_config
from .errors import ImageError, did_you_mean
from .primops import _Json
from .spec_names import (
    COMPRESSORS,
    FORMATS,
    MAX_LAYERS_LIMIT,
    RUN_AS_ROOT_HOST_DEPS,
    STREAM_BUILDER,
)
from .spec_names import LAYERED_ARGUMENTS as ARGUMENTS
from .spec_names import LAYERED_BUILDER as BUILDER
from .spec_names import LAYERED_SPEC_ATTR as SPEC_ATTR

#: Arguments of Nix's layered builders that mean nothing here (tar owner names are
#: always empty; ndx images hold no Nix database).
IGNORED = {"uname", "gname", "meta", "passthru", "diskSize", "buildVMMemorySize"}
_STORE_NAME = re.compile(r"[^A-Za-z0-9+\-._?=]")


def _spec(ctx: EvalContext, args_value: Any, what: str) -> tuple[dict[str, Any], set[str]]:
    """The checked arguments as JSON-able data, and the string context they carry."""
    args = expect_attrs(args_value, f"the argument of '{what}'")
    for key in sorted(args):
        if key not in ARGUMENTS and key not in IGNORED:
            raise EvalError(f"{what}: unknown argument '{key}'{did_you_mean(key, ARGUMENTS)}")
    if "name" not in args:
        raise EvalError(f"{what}: the argument 'name' is required")
    converter = _Json(ctx)
    spec = {key: converter.convert(args[key], f"{what}'s '{key}'")
            for key in sorted(args) if key in ARGUMENTS}
    spec = {k: v for k, v in spec.items() if v is not None}
    try:
        check_spec(spec, what)
    except ImageError as exc:
        raise EvalError(str(exc)) from None
    return spec, converter.context


def check_spec(spec: dict[str, Any], what: str) -> None:
    """The checks that need no store: types, ranges, config keys, compressor, format."""
    if not isinstance(spec["name"], str) or not spec["name"]:
        raise ImageError(f"{what}: 'name' must be a non-empty string")
    for key in ("tag", "extraCommands", "fakeRootCommands", "architecture", "created",
                "fromImageName", "fromImageTag", "fromImage"):
        if key in spec and not isinstance(spec[key], str):
            raise ImageError(f"{what}: '{key}' must be a string")
    for key in ("enableFakechroot", "includeStorePaths"):
        if key in spec and not isinstance(spec[key], bool):
            raise ImageError(f"{what}: '{key}' must be true or false")
    for key in ("uid", "gid", "compressionLevel"):
        if key in spec and (not isinstance(spec[key], int) or isinstance(spec[key], bool)
                            or spec[key] < 0):
            raise ImageError(f"{what}: '{key}' must be a non-negative integer")
    layers = spec.get("maxLayers", 2)
    if not isinstance(layers, int) or isinstance(layers, bool) \
            or not 2 <= layers <= MAX_LAYERS_LIMIT:
        raise ImageError(f"{what}: 'maxLayers' must be a number from 2 to {MAX_LAYERS_LIMIT} "
                         "(Docker refuses images of more than 125 layers)")
    contents = spec.get("contents")
    items = contents if isinstance(contents, list) else [] if contents is None else [contents]
    for item in items:
        if not isinstance(item, str) or not item.startswith("/"):
            raise ImageError(f"{what}: 'contents' must be packages (store paths), "
                             f"not {json.dumps(item)}")
    if "compressor" in spec and spec["compressor"] not in COMPRESSORS:
        raise ImageError(f"{what}: unknown compressor {json.dumps(spec['compressor'])}"
                         f"{did_you_mean(str(spec['compressor']), COMPRESSORS)}; use \"gz\", "
                         "\"zstd\" or \"none\"")
    if "format" in spec and spec["format"] not in FORMATS:
        raise ImageError(f"{what}: unknown format {json.dumps(spec['format'])}; use "
                         "\"docker-archive\" or \"oci\"")
    annotations = spec.get("annotations", {})
    if not isinstance(annotations, dict) or not all(isinstance(v, str)
                                                    for v in annotations.values()):
        raise ImageError(f"{what}: 'annotations' must be a set of strings")
    if "layeringPipeline" in spec and not isinstance(spec["layeringPipeline"], list):
        raise ImageError(f"{what}: 'layeringPipeline' must be a list of steps, like "
                         "[ [ \"popularity_contest\" ] [ \"limit_layers\" 100 ] ]")
    check_config(spec.get("config"))


def _derivation(ctx: EvalContext, attrs: dict[str, Any]) -> dict[str, Any]:
    paths = force(apply(ctx.builtins["derivationStrict"], attrs))
    result = dict(attrs)
    result.update({"type": "derivation", "drvPath": paths["drvPath"], "outPath": paths["out"],
                   "outputName": "out", "drvAttrs": dict(attrs)})
    return result


def _with_context(text: str, context: set[str]) -> Any:
    return ContextString(text, frozenset(context)) if context else text


def _image_derivation(ctx: EvalContext, spec: dict[str, Any], context: set[str],
                      name: str, output: str) -> dict[str, Any]:
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    attrs: dict[str, Any] = {"name": _STORE_NAME.sub("-", name), "system": "builtin",
                             "builder": BUILDER, "output": output,
                             SPEC_ATTR: _with_context(text, context)}
    if spec.get("fakeRootCommands"):
        attrs["__impureHostDeps"] = list(RUN_AS_ROOT_HOST_DEPS)
    return _derivation(ctx, attrs)


def _tag(spec: dict[str, Any], out_path: Any) -> str:
    """The image's tag: the given one, else the hash part of the output path (as Nix)."""
    return str(spec.get("tag") or string_text(out_path).rsplit("/", 1)[-1][:32])


@builtin("buildLayeredImage", 1, context=True, extension=True)
def build_layered_image(ctx: EvalContext, args_value: Any) -> Any:
    """Build a Docker/OCI image with one layer per popular store path:
    `buildLayeredImage { name; contents; config; maxLayers; … }` (Nix's arguments)."""
    spec, context = _spec(ctx, args_value, "buildLayeredImage")
    suffix = "" if spec.get("format") == "oci" else ".tar"
    result = _image_derivation(ctx, spec, context, f"docker-image-{spec['name']}{suffix}",
                               "archive")
    result.update({"imageName": spec["name"], "imageTag": _tag(spec, result["outPath"])})
    return result


@builtin("streamLayeredImage", 1, context=True, extension=True)
def stream_layered_image(ctx: EvalContext, args_value: Any) -> Any:
    """A script that writes a layered image to standard output:
    `$(ndx-build … -A image) | docker load` (the arguments of buildLayeredImage)."""
    spec, context = _spec(ctx, args_value, "streamLayeredImage")
    if spec.get("format", "docker-archive") != "docker-archive":
        raise EvalError("streamLayeredImage: a streamed image is a docker-archive (which is "
                        "also an OCI layout); 'format' cannot be changed")
    if "compressor" in spec and spec["compressor"] != "none":
        raise EvalError("streamLayeredImage: streamed layers are not compressed; leave out "
                        "'compressor' (docker load and podman load read plain layers)")
    conf = _image_derivation(ctx, spec, context, f"stream-{spec['name']}-conf", "stream-conf")
    attrs = {"name": _STORE_NAME.sub("-", f"stream-{spec['name']}"), "system": "builtin",
             "builder": STREAM_BUILDER,
             "conf": conf["outPath"]}
    result = _derivation(ctx, attrs)
    result.update({"imageName": spec["name"], "imageTag": _tag(spec, conf["outPath"]),
                   "conf": conf, "isExe": True})
    return result

