"""Imports every subcommand module so each registers itself on the `ndx` group."""

from ndx.cli import image  # noqa: F401  (`ndx image …`)
from ndx.cli import registry  # noqa: F401  (push, prefetch-image, `ndx image copy`; after image)
