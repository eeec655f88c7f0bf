"""The `override` builtin: `override pkg { dep = other; }` calls a package again with
changed arguments. It is `pkg.override { … }` as a function, for the packages callPackage
and makeOverridable make (stdlib/ndx/lib/customisation.ndx); the argument may also be a
function of the previous arguments, as with `.override`."""

from __future__ import annotations

from typing import Any

from ndx.evaluator.builtins.registry import builtin
from ndx.evaluator.coerce import expect_attrs
from ndx.evaluator.errors import EvalError
from ndx.evaluator.printer import describe_value
from ndx.evaluator.runtime import apply


@builtin("override", 2, extension=True)
def override(package: Any, new_args: Any) -> Any:
    """Call a package again with changed arguments: `override pkg { dep = other; }`."""
    attrs = expect_attrs(package, "the first argument of 'override' (a package)")
    if "override" not in attrs:
        name = attrs.get("name")
        what = describe_value(name) if name is not None else "this set"
        raise EvalError(f"override: {what} cannot be overridden: it has no .override "
                        "(packages made by callPackage or makeOverridable have one; "
                        "use .overrideAttrs to change a derivation's attributes)")
    return apply(attrs["override"], new_args)
