"""Imports every subcommand module so each registers itself on the `ndx` group."""

from ndx.cli import eval as _eval  # noqa: F401
from ndx.cli import image as _image  # noqa: F401 - `ndx image …`
from ndx.cli import parse  # noqa: F401 - `ndx parse`
from ndx.cli import registry as _registry  # noqa: F401 - push, prefetch-image, `ndx image copy` (after image)
from ndx.cli import repl as _repl  # noqa: F401 - `ndx repl`
from ndx.cli import sbom as _sbom  # noqa: F401 - `ndx image sbom` (after image)
from ndx.cli import store as _store  # noqa: F401
