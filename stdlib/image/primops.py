"""The `buildImage` builtin: check `dockerTools.buildImage`'s arguments at evaluation time
and turn them into the image derivation (`builtin:buildImage`).

Arguments are checked here, with the user's names and "did you mean" hints, so a typo
fails `ndx eval` instead of a build. The derivation carries them as one JSON attribute,
`imageSpec`, whose string context holds every store path they mention (packages in
`copyToRoot`, `${redis}` in `config.Cmd` or in `runAsRoot`), so each becomes an input.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ndx.evaluator.builtins.registry import builtin
from ndx.evaluator.coerce import coerce_to_string, expect_attrs, show_type
from ndx.evaluator.context import EvalContext
from ndx.evaluator.errors import EvalError, EvalTypeError
from ndx.evaluator.runtime import apply
from ndx.evaluator.values import ContextString, PathValue, force, string_context, string_text

from .config import check_config
from .errors import ImageError, did_you_mean
from .spec_names import ARGUMENTS, BUILDER, COMPRESSORS, RUN_AS_ROOT_HOST_DEPS, SPEC_ATTR

#: Arguments Nix's buildImage has that mean nothing here (they size its build VM).
IGNORED = {"diskSize", "buildVMMemorySize", "includeStorePaths", "meta"}
_STORE_NAME = re.compile(r"[^A-Za-z0-9+\-._?=]")


class _Json:
    """Converts forced ndx values to JSON, collecting string contexts."""

    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx
        self.context: set[str] = set()

    def convert(self, value: Any, where: str) -> Any:
        value = force(value)
        t = type(value)
        if value is None or t is bool or t is int or t is float:
            return value
        if t is str or t is ContextString:
            self.context |= string_context(value)
            return string_text(value)
        if t is PathValue or (t is dict and ("outPath" in value or "__toString" in value)):
            text = coerce_to_string(value, self.ctx, what=where)
            self.context |= string_context(text)
            return string_text(text)
        if t is list:
            return [self.convert(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if t is dict:
            return {key: self.convert(value[key], f"{where}.{key}") for key in sorted(value)}
        raise EvalTypeError(f"{where}: cannot use {show_type(value)} in an image "
                            "description")


@builtin("buildImage", 1, context=True, extension=True)
def build_image(ctx: EvalContext, args_value: Any) -> Any:
    """Build a Docker image from store paths: `buildImage { name; copyToRoot; config; … }`
    (the arguments of Nix's dockerTools.buildImage)."""
    args = expect_attrs(args_value, "the argument of 'buildImage'")
    for key in sorted(args):
        if key not in ARGUMENTS and key not in IGNORED:
            raise EvalError(f"buildImage: unknown argument '{key}'"
                            f"{did_you_mean(key, ARGUMENTS)}")
    if "name" not in args:
        raise EvalError("buildImage: the argument 'name' is required")
    json_value = _Json(ctx)
    spec = {key: json_value.convert(args[key], f"buildImage's '{key}'")
            for key in sorted(args) if key in ARGUMENTS}
    spec = {k: v for k, v in spec.items() if v is not None}
    _check(spec)
    suffix = "" if spec.get("format") == "oci" else ".tar"
    name = _STORE_NAME.sub("-", f"docker-image-{spec['name']}{suffix}")
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    attrs: dict[str, Any] = {
        "name": name, "system": "builtin", "builder": BUILDER,
        SPEC_ATTR: ContextString(text, frozenset(json_value.context))
        if json_value.context else text,
    }
    if spec.get("runAsRoot"):
        attrs["__impureHostDeps"] = list(RUN_AS_ROOT_HOST_DEPS)
    paths = force(apply(ctx.builtins["derivationStrict"], attrs))
    result = dict(attrs)
    result.update({"type": "derivation", "drvPath": paths["drvPath"], "outPath": paths["out"],
                   "outputName": "out", "drvAttrs": dict(attrs), "imageName": spec["name"],
                   "imageTag": spec.get("tag")})
    return result


def _check(spec: dict[str, Any]) -> None:
    """The argument checks that need no store: types, config keys, users, compressor."""
    try:
        if not isinstance(spec["name"], str) or not spec["name"]:
            raise ImageError("buildImage: 'name' must be a non-empty string")
        for key in ("tag", "runAsRoot", "extraCommands", "architecture", "created",
                    "fromImageName", "fromImageTag", "fromImage"):
            if key in spec and not isinstance(spec[key], str):
                raise ImageError(f"buildImage: '{key}' must be a string")
        for key in ("copyToRoot", "contents"):
            value = spec.get(key)
            items = value if isinstance(value, list) else [] if value is None else [value]
            for item in items:
                if not isinstance(item, str) or not item.startswith("/"):
                    raise ImageError(f"buildImage: '{key}' must be packages (store paths), "
                                     f"not {json.dumps(item)}")
        if "compressor" in spec and spec["compressor"] not in COMPRESSORS:
            raise ImageError(f"buildImage: unknown compressor {json.dumps(spec['compressor'])}"
                             f"{did_you_mean(str(spec['compressor']), COMPRESSORS)}; use "
                             "\"gz\", \"zstd\" or \"none\"")
        if spec.get("format", "docker-archive") not in ("docker-archive", "oci"):
            raise ImageError(f"buildImage: unknown format {json.dumps(spec['format'])}; use "
                             "\"docker-archive\" or \"oci\"")
        check_config(spec.get("config"))
        if spec.get("users"):
            from .users import parse_users  # the layer writer loads on use

            parse_users(spec["users"])
    except ImageError as exc:
        raise EvalError(str(exc)) from None
