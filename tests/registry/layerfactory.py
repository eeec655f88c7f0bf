"""Hand-made layer tarballs (including hostile ones) and a way to publish them to a
registry as an image, with the client's own upload calls."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable
from pathlib import Path

from ndx.stdlib.registry import ClientOptions, RegistryClient
from ndx.stdlib.registry.mediatypes import OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST

Entry = tuple[str, str, str | bytes]  # (kind, name, data or link target)


def layer_tar(entries: Iterable[Entry]) -> bytes:
    """A tar of entries: ("file", name, bytes), ("dir", name, ""), ("symlink", name,
    target), ("hardlink", name, target)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for kind, name, data in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1
            if kind == "file":
                assert isinstance(data, bytes)
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
                continue
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, str(data)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, str(data)
            tar.addfile(info)
    return out.getvalue()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def gzip_bomb(path: Path, expanded: int) -> None:
    """A gzip file of a tar holding one file of `expanded` zero bytes."""
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb",
                                                mtime=0) as gz:
        info = tarfile.TarInfo("zeros")
        info.size = expanded
        gz.write(info.tobuf(format=tarfile.PAX_FORMAT))
        block = bytes(1 << 20)
        left = expanded
        while left:
            n = min(left, len(block))
            gz.write(block[:n])
            left -= n
        gz.write(bytes(1024))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def publish(host: str, repository: str, tag: str, layers: list[tuple[bytes, str]],
            *, architecture: str = "amd64", options: ClientOptions | None = None) -> str:
    """Upload an OCI image with the given (gzip blob, diff ID) layers; return the manifest
    digest."""
    client = RegistryClient(host, options or ClientOptions(insecure=True))
    config = json.dumps({"architecture": architecture, "os": "linux",
                         "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]}},
                        sort_keys=True).encode()
    for blob in [config] + [b for b, _ in layers]:
        client.upload_blob(repository, sha256(blob), lambda b=blob: io.BytesIO(b), len(blob))
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": sha256(b), "size": len(b)}
                   for b, _ in layers]}).encode()
    return client.put_manifest(repository, tag, manifest, OCI_MANIFEST)
