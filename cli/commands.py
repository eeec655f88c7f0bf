"""Imports every subcommand module so each registers itself on the `ndx` group."""
from ndx.cli import image  # noqa: F401,E402  (`ndx image …`)
