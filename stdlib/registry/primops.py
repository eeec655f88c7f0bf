"""The `pullImage` builtin: Nix's `dockerTools.pullImage` as a global name.

Its arguments are checked here, at evaluation time, with the user's names — an unknown
argument gets a "did you mean", a missing or malformed `imageDigest`, `sha256` or `hash`
says what it should look like and which command prints it — so a mistake fails `ndx eval`
rather than a download. The derivation itself is declared once, by the ndx wrapper
`pull-image.ndx` (which plain Nix can read too), applied to the same arguments.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ndx.evaluator.builtins.registry import builtin
from ndx.evaluator.coerce import expect_attrs, show_type
from ndx.evaluator.context import EvalContext
from ndx.evaluator.errors import EvalError
from ndx.evaluator.hashes import HashError, parse_hash
from ndx.evaluator.runtime import apply
from ndx.evaluator.values import ContextString, force, string_text
from ndx.stdlib.image.errors import did_you_mean

from .errors import BadReferenceError
from .reference import parse_reference

#: The wrapper that declares the fixed-output derivation.
WRAPPER = Path(__file__).with_name("pull-image.ndx")
#: The arguments pullImage takes (Nix's, plus `variant`) and whether each is a string.
ARGUMENTS: dict[str, str] = {
    "imageName": "string", "imageDigest": "string", "sha256": "string", "hash": "string",
    "finalImageName": "string", "finalImageTag": "string", "os": "string",
    "arch": "string", "variant": "string", "tlsVerify": "bool", "name": "string",
}
REQUIRED = ("imageName", "imageDigest")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@builtin("pullImage", 1, context=True, extension=True)
def pull_image(ctx: EvalContext, args_value: Any) -> Any:
    """An image from a registry: `pullImage { imageName; imageDigest; sha256; … }`.

    Nix's dockerTools.pullImage: a fixed-output docker-archive pinned by digest and hash
    (`ndx prefetch-image NAME[:TAG]` prints them)."""
    args = expect_attrs(args_value, "the argument of 'pullImage'")
    check_arguments(args)
    return apply(ctx.import_file(str(WRAPPER)), args_value)


def check_arguments(args: dict[str, Any]) -> dict[str, Any]:
    """The forced argument values, after every check that needs neither the network nor
    the store; raises EvalError naming the argument at fault."""
    for key in sorted(args):
        if key not in ARGUMENTS:
            raise EvalError(f"pullImage: unknown argument '{key}'"
                            f"{did_you_mean(key, ARGUMENTS)}; it takes "
                            f"{', '.join(ARGUMENTS)}")
    for key in REQUIRED:
        if key not in args:
            raise EvalError(f"pullImage: the argument '{key}' is required "
                            "(`ndx prefetch-image NAME[:TAG]` prints imageName, imageDigest "
                            "and sha256)")
    values: dict[str, Any] = {}
    for key in sorted(args):
        value = force(args[key])
        kind = ARGUMENTS[key]
        if value is None and key in ("arch", "name"):
            continue  # the wrapper's own defaults
        if kind == "bool" and type(value) is not bool:
            raise EvalError(f"pullImage: '{key}' must be a Boolean, not {show_type(value)}")
        if kind == "string":
            if type(value) is not str and type(value) is not ContextString:
                raise EvalError(f"pullImage: '{key}' must be a string, not "
                                f"{show_type(value)}")
            value = string_text(value)
        values[key] = value
    name = values["imageName"]
    try:
        parse_reference(name)
    except BadReferenceError as exc:
        raise EvalError(f"pullImage: imageName: {exc}") from None
    if not _DIGEST.fullmatch(values["imageDigest"]):
        raise EvalError(f"pullImage: imageDigest must be 'sha256:' and 64 lower-case hex "
                        f"digits, not '{values['imageDigest']}' (`ndx prefetch-image {name}` "
                        "prints it)")
    _check_hash(values, name)
    return values


def _check_hash(values: dict[str, Any], name: str) -> None:
    sha256, sri = values.get("sha256", ""), values.get("hash", "")
    hint = f"`ndx prefetch-image {name}` prints it, and a build with a wrong one prints the " \
        "right one"
    if not sha256 and not sri:
        raise EvalError(f"pullImage: the argument 'sha256' (or 'hash') is required: the hash "
                        f"of the image archive; {hint}")
    if sha256 and sri:
        raise EvalError("pullImage: give either 'sha256' or 'hash', not both")
    key, text, algo = ("sha256", sha256, "sha256") if sha256 else ("hash", sri, None)
    try:
        parse_hash(text, algo)
    except HashError as exc:
        raise EvalError(f"pullImage: {key} = \"{text}\" is not a valid hash ({exc}); "
                        f"{hint}") from None
