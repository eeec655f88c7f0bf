"""Reading a layered image's layers in tests: which store paths each one holds."""

from __future__ import annotations

import tarfile
from pathlib import Path

from ndx.stdlib.image.archive import ImageArchive


def layers_by_content(path: str | Path) -> dict[str, str]:
    """What each layer holds (its top-level store path names, or "customisation") → its
    blob digest."""
    result = {}
    with ImageArchive(str(path)) as archive:
        image = archive.image()
        for layer in image.layers:
            with archive.open_layer(layer) as stream, \
                    tarfile.open(fileobj=stream, mode="r|") as tar:
                names = sorted({m.name.split("/")[2][33:] for m in tar
                                if m.name.count("/") >= 2 and m.name.startswith("ndx/store/")})
            result[",".join(names) or "customisation"] = layer.digest
    return result
