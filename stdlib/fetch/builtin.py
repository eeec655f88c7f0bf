"""`builtin:fetchurl`, the builder the build engine runs itself for fixed-output
downloads (`fetchurl { url; sha256; }`).

Its attributes: `url` or `urls` (space-separated, tried in order), the output hash,
`executable = true` (the file is made executable; hashed recursively) and
`unpack = true` (the archive is unpacked; hashed recursively). Flat downloads are first
looked up on the hashed mirrors, and every delivered file is checked against the hash
before the next source is tried, so a bad mirror cannot poison the store.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from ndx.stdlib.store.drv import StoreDerivation
from ndx.stdlib.store.encoding import nix_base32, sri
from ndx.stdlib.store.errors import BuildError, HashMismatchError
from ndx.stdlib.store.fixed import content_hash, mismatch_message

from .download import DownloadError, Progress, download, hashed_mirror_urls
from .unpack import UnpackError, unpack

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore


def builtin_fetchurl(store: DiskStore, drv_path: str, drv: StoreDerivation, out: str,
                     log: Callable[[str], None], fetched: Callable[[int], None],
                     check_cancel: Callable[[], None]) -> None:
    """Download the derivation's URL into `out` (the output's temporary location)."""
    env = drv.env
    urls = env.get("urls", "").split() or env.get("url", "").split()
    if not urls:
        raise BuildError(f"'{drv_path}': builtin:fetchurl needs a 'url' or 'urls' "
                         "attribute", drv_path)
    if not drv.is_fixed_output:
        raise BuildError(f"'{drv_path}': builtin:fetchurl must be a fixed-output "
                         "derivation (give it a hash)", drv_path)
    spec = drv.outputs["out"]
    recursive = spec.hash_algo.startswith("r:")
    algo = spec.hash_algo.removeprefix("r:")
    expected = bytes.fromhex(spec.hash)
    executable = env.get("executable") == "1"
    unpacking = env.get("unpack") == "1"
    flat = not recursive
    sources = (hashed_mirror_urls(algo, expected) if flat else []) + urls
    wrong: list[bytes] = []

    def accept(path: str) -> str | None:
        if not flat:
            return None
        actual = content_hash(path, algo, False)
        if actual == expected:
            return None
        wrong.append(actual)
        return f"delivered content with the wrong hash ({sri(algo, actual)})"

    download_file = out + ".download"
    progress = Progress(log, fetched, check_cancel)
    # Keyed by the expected content, and used only under the output's lock.
    partial = os.path.join(store.state_dir, "downloads", f"{algo}-{spec.hash}.part")
    os.makedirs(os.path.dirname(partial), exist_ok=True)
    try:
        url = download(sources, download_file, progress, accept, partial)
    except DownloadError as exc:
        if wrong:
            raise HashMismatchError(mismatch_message(f"derivation '{drv_path}'", algo,
                                                     expected, wrong[-1])) from None
        raise BuildError(f"cannot download '{drv.name}' for '{drv_path}'; tried:\n{exc}",
                         drv_path) from None
    log(f"fetched '{url}' ({os.path.getsize(download_file)} bytes, "
        f"{algo}:{nix_base32(expected) if flat else 'checked after unpacking'})")
    if unpacking:
        try:
            unpack(download_file, out)
        except UnpackError as exc:
            raise BuildError(f"'{drv_path}': {exc}", drv_path) from None
        os.unlink(download_file)
    else:
        os.rename(download_file, out)
        if executable:
            os.chmod(out, 0o755)
