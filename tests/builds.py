"""`ndx-build` for the end-to-end tests of every folder: one temporary store per session,
sources from the offline mirror, each distinct command run once (so redis, busybox and the
images made of them are built once, whichever folder asks first).

Importable from any test folder (`from tests.builds import NdxBuilds`); the session
fixtures `build_env`, `ndx_store` and `ndx_builds` in tests/conftest.py make one."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MIRROR_SCRIPT = ROOT / "scripts" / "setup.d" / "20-source-mirror.sh"
MIRROR = ROOT / ".cache" / "mirror"
#: How long one build may take (redis from source on two busy cores) before the test fails.
BUILD_TIMEOUT = 3600


def build_environment(scratch: Path) -> dict[str, str]:
    """The environment of ndx-build in tests: the source mirror filled and offered by hash,
    ndx's caches and the registry credentials in `scratch` (never the user's), and ndx's
    commands first on PATH (a streamed image's script runs `ndx`)."""
    subprocess.run(["sh", str(MIRROR_SCRIPT)], check=True, timeout=900)
    env = dict(os.environ, NDX_HASHED_MIRRORS=f"file://{MIRROR}")
    env["NDX_CACHE_DIR"] = str(scratch / "ndx-cache")
    env["DOCKER_CONFIG"] = str(scratch / "docker-config")
    for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "NDX_INSECURE_REGISTRIES"):
        env.pop(name, None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    return env


@dataclass(frozen=True)
class Built:
    """One output of ndx-build: `link` (the result symlink, pointing into the physical
    store) and `logical` (its /ndx/store path)."""

    link: Path
    logical: str

    @property
    def path(self) -> Path:
        """The output on this machine."""
        return self.link.resolve()


@dataclass
class NdxBuilds:
    """Runs `ndx-build ARGS… --store STORE` and remembers each result by its arguments."""

    store: Path
    links: Path
    env: dict[str, str]
    done: dict[tuple[str, ...], Built] = field(default_factory=dict)

    def run(self, *args: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        """ndx-build with `args` into the session store (not remembered; may fail)."""
        return subprocess.run([str(BIN / "ndx-build"), *args, "--store", str(self.store),
                               "--cores", "2"],
                              check=False, env=env or self.env, capture_output=True,
                              text=True, timeout=BUILD_TIMEOUT)

    def build(self, *args: str) -> Built:
        """The output of `ndx-build ARGS…` (`FILE -A attr`, `-E expr`, `--arg …`), built
        the first time it is asked for."""
        if args not in self.done:
            link = self.links / f"result-{len(self.done)}"
            proc = self.run(*args, "-o", str(link))
            assert proc.returncode == 0, \
                f"ndx-build {' '.join(args)} failed:\n{proc.stderr[-5000:]}"
            logical = proc.stdout.strip().splitlines()[-1]
            assert logical.startswith("/ndx/store/"), proc.stdout
            self.done[args] = Built(link, logical)
        return self.done[args]

    def fail(self, *args: str) -> str:
        """The error output of `ndx-build ARGS…`, which must fail (without a traceback)."""
        proc = self.run(*args, "--no-out-link")
        assert proc.returncode != 0, f"ndx-build {' '.join(args)} succeeded"
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc.stderr


# --- reading what was built ------------------------------------------------------------------

def archive_manifest(archive: Path) -> dict[str, object]:
    """The one entry of a docker-archive's manifest.json."""
    with tarfile.open(archive) as outer:
        member = outer.extractfile("manifest.json")
        assert member is not None
        entries: list[dict[str, object]] = json.load(member)
    assert len(entries) == 1, entries
    return entries[0]


def image_files(archive: Path) -> dict[str, tarfile.TarInfo]:
    """Every entry of every layer of a docker-archive, by path (later layers win)."""
    files: dict[str, tarfile.TarInfo] = {}
    with tarfile.open(archive) as outer:
        for layer in archive_manifest(archive)["Layers"]:  # type: ignore[attr-defined]
            data = outer.extractfile(layer).read()  # type: ignore[union-attr]
            with tarfile.open(fileobj=io.BytesIO(data)) as inner:
                for info in inner.getmembers():
                    files[info.name.rstrip("/")] = info
    return files


def image_text(archive: Path, path: str) -> str:
    """The text of file `path` in the image (its last version)."""
    text = None
    with tarfile.open(archive) as outer:
        for layer in archive_manifest(archive)["Layers"]:  # type: ignore[attr-defined]
            data = outer.extractfile(layer).read()  # type: ignore[union-attr]
            with tarfile.open(fileobj=io.BytesIO(data)) as inner:
                try:
                    member = inner.extractfile(path)
                except KeyError:
                    continue
                if member is not None:
                    text = member.read().decode()
    assert text is not None, f"{path} is not in the image"
    return text


def uid_of(archive: Path, user: str) -> int:
    """The uid of `user` in the image's /etc/passwd."""
    for line in image_text(archive, "etc/passwd").splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2])
    raise AssertionError(f"no user {user} in the image's /etc/passwd")
