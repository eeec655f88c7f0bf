"""Imports every subcommand module so each registers itself on the `ndx` group."""

from ndx.cli import registry  # noqa: F401  (push, prefetch-image, image copy)
