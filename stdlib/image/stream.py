"""Streaming a layered image: `python -m ndx.stdlib.image.stream CONF` writes the image
described by the configuration directory CONF (a store path made by `streamLayeredImage`)
to standard output, as a docker-archive that is also an OCI layout:

    $(ndx-build app.ndx -A image) | docker load

The tarball never lands in the store. CONF holds `image.json` — the exact config bytes
(with every layer's diff ID, computed when CONF was built), the name, and each layer's
recipe — and the small `customisation.tar`; the store-path layers are made here, as
uncompressed tars, from the store paths themselves. Every byte is checked against the
diff ID recorded at build time, so a store that changed underneath fails loudly instead
of producing an image that lies. Same CONF, same bytes: the output is reproducible.

The script `streamLayeredImage` stores runs this module with the Python that has ndx;
the store's physical location is found from CONF's own path, so a store anywhere works.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any, BinaryIO

from .archive_reader import ImageArchive
from .archive_writer import write_docker_archive
from .builder_steps import StoreView
from .errors import ImageError
from .image_format import OCI_LAYER
from .image_model import Image, Layer
from .layer import tar_stream

#: The files of a stream configuration directory.
CONF_FILE = "image.json"
CUSTOM_FILE = "customisation.tar"


class _PiecesReader(io.RawIOBase):
    """A readable stream over an iterator of byte pieces (a layer tar being made)."""

    def __init__(self, pieces: Iterator[bytes | memoryview]) -> None:
        self._pieces = pieces
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = bytes(next(self._pieces))
            except StopIteration:
                return 0
        count = min(len(buffer), len(self._buffer))
        buffer[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count


class StreamBlobs:
    """The blobs of a streamed image: store-path layers made on demand, the customisation
    layer from CONF, base layers from the base image's archive."""

    def __init__(self, conf_dir: str, conf: dict[str, Any], store: StoreView) -> None:
        self.conf_dir = conf_dir
        self.store = store
        self.recipes = {entry["digest"]: entry for entry in conf["layers"]}
        self._archives: dict[str, ImageArchive] = {}

    def open_blob(self, digest: str) -> BinaryIO:
        from .layered import store_entries

        recipe = self.recipes.get(digest)
        if recipe is None:
            raise ImageError(f"the stream configuration has no layer {digest}")
        kind = recipe["kind"]
        if kind == "store":
            entries = store_entries(recipe["paths"], self.store, recipe["uid"], recipe["gid"])
            return io.BufferedReader(_PiecesReader(iter(tar_stream(entries))), 1 << 20)
        if kind == "file":
            return open(os.path.join(self.conf_dir, recipe["file"]), "rb")
        if kind == "base":
            archive = self._archives.get(recipe["archive"])
            if archive is None:
                archive = ImageArchive(self.store.real(recipe["archive"]))
                self._archives[recipe["archive"]] = archive
            return archive.open_blob(digest)
        raise ImageError(f"unknown layer kind {kind!r} in the stream configuration")

    def close(self) -> None:
        for archive in self._archives.values():
            archive.close()


def load_conf(conf_dir: str) -> tuple[Image, dict[str, Any]]:
    """The image a stream configuration describes, and the configuration itself."""
    try:
        with open(os.path.join(conf_dir, CONF_FILE)) as f:
            conf = json.load(f)
        layers = tuple(Layer(e["diff_id"], e["digest"], int(e["size"]),
                             e.get("media_type", OCI_LAYER)) for e in conf["layers"])
        image = Image(conf["config"].encode(), layers, (conf["repo_tag"],),
                      dict(conf.get("annotations") or {}))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImageError(f"{conf_dir} is not a stream configuration: {exc}") from None
    return image, conf


def stream_image(conf_dir: str, out: IO[bytes]) -> Image:
    """Write the image of configuration directory `conf_dir` to `out`."""
    conf_dir = os.path.realpath(conf_dir)
    image, conf = load_conf(conf_dir)
    store = StoreView(os.path.dirname(conf_dir), conf.get("store_dir", "/ndx/store"))
    blobs = StreamBlobs(conf_dir, conf, store)
    try:
        write_docker_archive(out, [image], blobs, oci=True)
    finally:
        blobs.close()
    return image


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: python -m ndx.stdlib.image.stream CONF > image.tar\n"
                         "Writes the layered image of stream configuration CONF (made by "
                         "streamLayeredImage) to standard output.\n")
        return 2
    if sys.stdout.isatty():
        sys.stderr.write("error: refusing to write an image to a terminal; pipe it: "
                         "… | docker load\n")
        return 2
    try:
        stream_image(argv[0], sys.stdout.buffer)
        sys.stdout.buffer.flush()
    except ImageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except BrokenPipeError:
        sys.stderr.write("error: the reader of the image stopped early\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"error: cannot stream the image: {exc.strerror or exc}"
                         f"{f' ({exc.filename})' if exc.filename else ''}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
