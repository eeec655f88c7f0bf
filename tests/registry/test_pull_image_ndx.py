"""The ndx-level `pullImage` wrapper (stdlib/registry/pull-image.ndx), which the global
`pullImage` applies after its own checks, read by Nix itself (the file is plain Nix): the
derivation it declares, and its argument errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

WRAPPER = Path(__file__).resolve().parents[2] / "stdlib" / "registry" / "pull-image.ndx"
DIGEST = "sha256:" + "a" * 64


def nix_eval(expr: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nix-instantiate", "--eval", "--strict", "-E", expr],
                          capture_output=True, text=True)


def call(args: str, attrs: str) -> subprocess.CompletedProcess[str]:
    return nix_eval(f"let d = import {WRAPPER} {{ {args} }}; in {{ inherit (d) {attrs}; }}")


def test_declares_a_flat_fixed_output_builtin_derivation() -> None:
    done = call(f'imageName = "127.0.0.1:5000/library/debian"; imageDigest = "{DIGEST}"; '
                'sha256 = "0000000000000000000000000000000000000000000000000000"; '
                'finalImageName = "debian"; finalImageTag = "bookworm"; tlsVerify = false;',
                "name builder system imageName imageDigest finalImageName finalImageTag "
                "os tlsVerify outputHashMode outputHashAlgo outputHash")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for expected in ('builder = "builtin:pullImage"', 'system = "builtin"',
                     'name = "docker-image-debian-bookworm.tar"', 'outputHashMode = "flat"',
                     'outputHashAlgo = "sha256"', "tlsVerify = false", 'os = "linux"',
                     f'imageDigest = "{DIGEST}"'):
        assert expected in out


def test_defaults_follow_nix() -> None:
    done = call(f'imageName = "redis"; imageDigest = "{DIGEST}"; hash = "sha256-AAAA";',
                "name finalImageName finalImageTag outputHash tlsVerify")
    assert done.returncode == 0, done.stderr
    assert 'name = "docker-image-redis-latest.tar"' in done.stdout
    assert 'finalImageName = "redis"' in done.stdout and "tlsVerify = true" in done.stdout
    assert 'outputHash = "sha256-AAAA"' in done.stdout


@pytest.mark.parametrize("args, message", [
    ('imageName = "redis"; imageDigest = "latest"; sha256 = "x";',
     "imageDigest must be 'sha256:'"),
    (f'imageName = "redis"; imageDigest = "{DIGEST}";', "give the archive's sha256"),
    (f'imageName = "redis"; imageDigest = "{DIGEST}"; sha256 = "x"; hash = "y";',
     "either sha256 or hash"),
])
def test_argument_errors(args: str, message: str) -> None:
    done = call(args, "name")
    assert done.returncode != 0 and message in done.stderr
