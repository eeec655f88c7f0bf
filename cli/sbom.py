"""`ndx image sbom RESULT`: the SPDX 2.3 JSON document of an image built by ndx."""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING

import click

from ndx.cli.image import image_group

if TYPE_CHECKING:
    from ndx.stdlib.image.archive import Image

_CONF_LINE = re.compile(r"^conf=(/\S+)$", re.MULTILINE)


def load_image(path: str) -> Image:
    """The image at `path`: a docker-archive, an OCI layout (file or directory), or the
    script `streamLayeredImage` made (read from its configuration, without streaming)."""
    from ndx.stdlib.image.archive import ImageArchive  # the image stack loads on use
    from ndx.stdlib.image.errors import ImageError

    if os.path.isfile(path):
        with open(path, "rb") as f:
            head = f.read(4096)
        if head.startswith(b"#!"):
            match = _CONF_LINE.search(head.decode("utf-8", "replace"))
            if match is None:
                raise ImageError(f"{path} is a script, but not one streamLayeredImage made")
            from ndx.stdlib.image.stream import load_conf

            store = os.path.dirname(os.path.realpath(path))
            image, _ = load_conf(os.path.join(store, match.group(1).rsplit("/", 1)[-1]))
            return image
    with ImageArchive(path) as archive:
        return archive.image()


@image_group.command("sbom")
@click.argument("path", metavar="RESULT", type=click.Path(exists=True, dir_okay=True))
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write the document to this file instead of standard output.")
def sbom(path: str, output: str | None) -> None:
    """Print the SPDX 2.3 JSON software bill of materials of the image RESULT (an
    ndx-build result: docker-archive, OCI layout or stream script): every store path in
    it, with its package name, version and source, and their dependencies."""
    from ndx.stdlib.image.sbom import spdx_document

    document = spdx_document(load_image(path))
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if output:
        with open(output, "w") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)
