"""The packages and trivial builders built for real by `ndx-build` (in a temporary store,
sources from the offline mirror) and then run: busybox, privdrop, shadow, and a
symlinkJoin / buildEnv / writeShellScriptBin / runCommand combination."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.packages.elf import is_static, is_stripped

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory, ndx_store: Path,  # type: ignore[no-untyped-def]
          build_env: dict[str, str]):
    """build(expr) -> the physical path of the built output."""
    store = ndx_store
    links = tmp_path_factory.mktemp("links")
    env = build_env
    count = 0

    def run(expr: str, *, ok: bool = True) -> Path | str:
        nonlocal count
        count += 1
        link = links / f"result-{count}"
        result = subprocess.run(
            [str(BIN / "ndx-build"), "-E", f"let pkgs = import <ndx> {{ }}; in {expr}",
             "--store", str(store), "-o", str(link), "--cores", "2"],
            check=False, env=env, capture_output=True, text=True, timeout=3600)
        if not ok:
            assert result.returncode != 0
            return result.stderr
        assert result.returncode == 0, result.stderr[-5000:]
        return link.resolve()

    return run


def test_busybox_is_one_static_binary_with_the_applets_images_need(build) -> None:  # type: ignore[no-untyped-def]
    out = build("pkgs.busybox")
    busybox = out / "bin" / "busybox"
    assert is_static(busybox) and is_stripped(busybox)
    for applet in ("sh", "id", "chown", "mkdir", "ls", "cat", "env"):
        assert (out / "bin" / applet).exists(), applet
    script = subprocess.run([out / "bin" / "sh", "-c", "echo $((6 * 7)) | cat"], check=True,
                            capture_output=True, text=True)
    assert script.stdout == "42\n"
    assert busybox.stat().st_size < 2 * 1024 * 1024


def test_privdrop_drops_to_the_user_and_answers_as_gosu_and_su_exec(build) -> None:  # type: ignore[no-untyped-def]
    out = build("pkgs.privdrop")
    for name in ("privdrop", "gosu", "su-exec"):
        result = subprocess.run([out / "bin" / name, "nobody", "id", "-u"], check=True,
                                capture_output=True, text=True)
        assert result.stdout == "65534\n"
    refused = subprocess.run([out / "bin" / "privdrop", "no-such-user", "true"], check=False,
                             capture_output=True, text=True)
    assert refused.returncode == 1 and "unknown user 'no-such-user'" in refused.stderr


def test_shadow_creates_users_in_another_root(build, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = build("pkgs.shadow")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    for name in ("shadow", "gshadow"):
        (root / "etc" / name).write_text("")
    subprocess.run([out / "bin" / "groupadd", "-R", root, "-r", "redis"], check=True)
    subprocess.run([out / "bin" / "useradd", "-R", root, "-r", "-g", "redis", "-d", "/data",
                    "-M", "redis"], check=True)
    passwd = (root / "etc" / "passwd").read_text()
    assert any(line.startswith("redis:x:") and line.endswith(":/data:")
               for line in passwd.splitlines()), passwd


def test_trivial_builders_build(build) -> None:  # type: ignore[no-untyped-def]
    out = build("""
      let
        a = pkgs.runCommand "a" { greeting = "hello"; } ''
          mkdir -p $out/bin $out/share
          echo "$greeting" > $out/share/a
        '';
        b = pkgs.writeShellScriptBin "b" "echo b";
        t = pkgs.writeTextDir "etc/x.conf" "x=1\\n";
        # Larger than an environment variable may be.
        big = pkgs.writeText "big" (builtins.concatStringsSep ""
          (builtins.genList (i: "line ${toString i}\\n") 30000));
        joined = pkgs.symlinkJoin { name = "j"; paths = [ a b t ]; postBuild = "echo joined > $out/marker"; };
        env = pkgs.buildEnv { name = "e"; paths = [ a b ]; pathsToLink = [ "/bin" ]; };
      in pkgs.runCommand "check" { inherit joined env; } ''
        mkdir $out
        cp $joined/share/a $out/a
        cp $joined/etc/x.conf $out/x.conf
        cp $joined/marker $out/marker
        head -n 1 $env/bin/b > $out/shebang
        ls $env > $out/env-top
        wc -l < ${big} > $out/big-lines
      ''
    """)
    assert (out / "a").read_text() == "hello\n"
    assert (out / "x.conf").read_text() == "x=1\n"
    assert (out / "marker").read_text() == "joined\n"
    shebang = (out / "shebang").read_text()
    assert shebang.startswith("#!/ndx/store/") and shebang.endswith("-busybox-1.35.0/bin/sh\n")
    assert (out / "env-top").read_text() == "bin\n"
    assert (out / "big-lines").read_text() == "30000\n"


def test_build_env_refuses_colliding_files(build) -> None:  # type: ignore[no-untyped-def]
    stderr = build("""pkgs.buildEnv { name = "c"; paths = [
      (pkgs.writeScriptBin "a" "#!/bin/sh\\necho one\\n")
      (pkgs.writeScriptBin "a" "#!/bin/sh\\necho other\\n") ]; }""", ok=False)
    assert "collision on /bin/a" in stderr
