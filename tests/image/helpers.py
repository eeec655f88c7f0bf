"""Reading back what build_image wrote."""

from __future__ import annotations

import tarfile
from pathlib import Path

from ndx.stdlib.image.archive import Image, ImageArchive


def read_image(path: str | Path) -> Image:
    with ImageArchive(str(path)) as archive:
        return archive.image()


def layer_members(path: str | Path, index: int = -1) -> dict[str, tarfile.TarInfo]:
    """name → member of one layer of the archive's only image (the top one by default)."""
    with ImageArchive(str(path)) as archive:
        image = archive.image()
        with archive.open_layer(image.layers[index]) as stream, \
                tarfile.open(fileobj=stream, mode="r|") as tar:
            return {m.name: m for m in tar}


def layer_file(path: str | Path, name: str, index: int = -1) -> bytes:
    with ImageArchive(str(path)) as archive:
        image = archive.image()
        with archive.open_layer(image.layers[index]) as stream, \
                tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                if member.name == name:
                    data = tar.extractfile(member)
                    assert data is not None
                    return data.read()
    raise KeyError(name)
