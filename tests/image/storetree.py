"""Store-like trees for image tests: `<tmp>/store/<32-char hash>-<name>`, logical paths under
/ndx/store, without needing the real store (the image library takes any store layout)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ndx.stdlib.image.build import StoreView

STORE_DIR = "/ndx/store"
HELLO_C = r"""
#include <stdio.h>
int main(void) { puts("Hello from ndx!"); return 0; }
"""


class FakeStore:
    """A directory laid out like the store; `add` makes a path from a dict of files."""

    def __init__(self, real_dir: Path) -> None:
        self.real_dir = real_dir
        real_dir.mkdir(parents=True, exist_ok=True)
        self.view = StoreView(str(real_dir), STORE_DIR)

    def path(self, name: str, salt: str = "") -> str:
        """The logical store path for `name` (a fixed hash derived from name and salt)."""
        digest = hashlib.sha256(f"{name}{salt}".encode()).hexdigest()
        alphabet = "0123456789abcdfghijklmnpqrsvwxyz"
        return f"{STORE_DIR}/" + "".join(alphabet[int(c, 16) * 2 % 32] for c in digest[:32]) \
            + f"-{name}"

    def real(self, logical: str) -> Path:
        return Path(self.view.real(logical))

    def add(self, name: str, files: dict[str, bytes | str], *, modes: dict[str, int] | None = None,
            links: dict[str, str] | None = None) -> str:
        """Create store path `name` with `files` (relative path → content) and symlinks."""
        logical = self.path(name)
        real = self.real(logical)
        for rel, content in files.items():
            target = real / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)
            os.chmod(target, (modes or {}).get(rel, 0o444))
        for rel, dest in (links or {}).items():
            target = real / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(dest, target)
        real.mkdir(parents=True, exist_ok=True)
        return logical

    def add_hello(self, workdir: Path) -> str:
        """A static hello-world compiled with musl-gcc, as a derivation would build it."""
        src = workdir / "hello.c"
        src.write_text(HELLO_C)
        logical = self.path("hello-1.0")
        out = self.real(logical) / "bin" / "hello"
        out.parent.mkdir(parents=True, exist_ok=True)
        cc = shutil.which("musl-gcc")
        assert cc, "musl-gcc is missing: run ./dev.sh setup (Debian package musl-tools)"
        subprocess.run([cc, "-static", "-Os", "-o", str(out), str(src)], check=True)
        os.chmod(out, 0o555)
        return logical
