"""ELF checks for the tests of this folder, through binutils' readelf."""

from __future__ import annotations

import subprocess
from pathlib import Path


def readelf(*args: str | Path) -> str:
    return subprocess.run(["readelf", "-W", *map(str, args)], check=True,
                          capture_output=True, text=True).stdout


def is_static(path: Path) -> bool:
    """No program interpreter: the kernel runs it without a dynamic loader."""
    return "INTERP" not in readelf("-l", path)


def is_stripped(path: Path) -> bool:
    """No symbol table left."""
    return ".symtab" not in readelf("-S", path)
