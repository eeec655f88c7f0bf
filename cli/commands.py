"""Imports every subcommand module so each registers itself on the `ndx` group."""

from ndx.cli import eval as _eval  # noqa: F401
from ndx.cli import image as _image  # noqa: F401
from ndx.cli import parse  # noqa: F401 - `ndx parse`
from ndx.cli import store as _store  # noqa: F401
