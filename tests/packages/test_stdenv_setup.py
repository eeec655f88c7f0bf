"""The stdenv phases script, run directly with bash in the environment a derivation gives
its builder (attributes as variables, PATH=/path-not-set, HOME=/homeless-shelter), and once
inside bubblewrap with only the host's /usr, /bin, /lib, /lib64 — as the store's sandbox."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.packages.elf import is_static, is_stripped

ROOT = Path(__file__).resolve().parents[2]
STDENV = ROOT / "stdlib" / "ndx" / "stdenv"

HELLO_C = '#include <stdio.h>\nint main(void) { puts("hello from ndx"); return 0; }\n'
HELLO_MAKEFILE = (
    "PREFIX ?= /usr/local\n"
    "hello: hello.c\n\t$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<\n"
    "install: hello\n\tmkdir -p $(PREFIX)/bin\n\tcp hello $(PREFIX)/bin/hello\n"
)


class Build:
    """One build: a fake store under tmp, an output path in it, and the attributes."""

    def __init__(self, tmp: Path, name: str = "test") -> None:
        self.tmp = tmp
        self.store = tmp / "store"
        self.store.mkdir(parents=True, exist_ok=True)
        self.top = tmp / "build"
        self.top.mkdir()
        self.out = self.store / f"{'a' * 32}-{name}"

    def store_path(self, name: str, letter: str = "b") -> Path:
        path = self.store / f"{letter * 32}-{name}"
        path.mkdir(parents=True)
        return path

    def env(self, attrs: dict[str, str]) -> dict[str, str]:
        return {"PATH": "/path-not-set", "HOME": "/homeless-shelter",
                "NDX_BUILD_TOP": str(self.top), "TMPDIR": str(self.top),
                "SOURCE_DATE_EPOCH": "1", "NDX_BUILD_CORES": "2",
                "NDX_STORE_DIR": str(self.store), "stdenv": str(STDENV),
                "out": str(self.out), "CC": "musl-gcc", "LDFLAGS": "-static", **attrs}

    def run(self, attrs: dict[str, str], sandbox: bool = False) -> subprocess.CompletedProcess[str]:
        cmd = ["/bin/bash", "-e", str(STDENV / "default-builder.sh")]
        if sandbox:
            cmd = ["bwrap", "--unshare-all", "--die-with-parent",
                   "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
                   "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                   "--ro-bind", "/etc/alternatives", "/etc/alternatives",
                   "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                   "--ro-bind", str(STDENV), str(STDENV),
                   "--bind", str(self.tmp), str(self.tmp),
                   "--chdir", str(self.top), "--clearenv",
                   *[a for k, v in self.env(attrs).items() for a in ("--setenv", k, v)],
                   *cmd]
            return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
        return subprocess.run(cmd, check=False, env=self.env(attrs), cwd=self.top, capture_output=True,
                              text=True, timeout=300)


def make_tarball(path: Path, files: dict[str, str], modes: dict[str, int] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = (modes or {}).get(name, 0o644)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def hello_src(tmp_path: Path) -> Path:
    return make_tarball(tmp_path / "hello-1.0.tar.gz",
                        {"hello-1.0/hello.c": HELLO_C, "hello-1.0/Makefile": HELLO_MAKEFILE})


def test_a_make_project_builds_static_with_musl_inside_the_sandbox(
        tmp_path: Path, hello_src: Path) -> None:
    b = Build(tmp_path, "hello-1.0")
    result = b.run({"src": str(hello_src), "makeFlags": f"PREFIX={b.out}",
                    "enableParallelBuilding": "1"}, sandbox=True)
    assert result.returncode == 0, result.stderr
    hello = b.out / "bin" / "hello"
    assert subprocess.run([hello], check=False, capture_output=True, text=True).stdout == "hello from ndx\n"
    assert is_static(hello) and is_stripped(hello)
    for phase in ("unpack", "patch", "configure", "build", "install", "fixup"):
        assert f"ndx: {phase} phase" in result.stderr
    assert "ndx: check phase" not in result.stderr  # doCheck is off by default


def test_phase_attributes_replace_the_defaults_and_hooks_run_around_them(
        tmp_path: Path, hello_src: Path) -> None:
    b = Build(tmp_path)
    result = b.run({
        "src": str(hello_src),
        "preBuild": "echo pre-build > $NDX_BUILD_TOP/log",
        "buildPhase": "runHook preBuild; echo custom-build >> $NDX_BUILD_TOP/log; runHook postBuild",
        "postBuild": "echo post-build >> $NDX_BUILD_TOP/log",
        "installPhase": "mkdir -p $out/share; cp Makefile $out/share/",
        "postInstall": "echo never >> $NDX_BUILD_TOP/log",
    })
    assert result.returncode == 0, result.stderr
    assert (b.top / "log").read_text() == "pre-build\ncustom-build\npost-build\n"
    assert (b.out / "share" / "Makefile").read_text() == HELLO_MAKEFILE


def test_dont_flags_skip_phases_and_phases_replaces_the_list(tmp_path: Path) -> None:
    b = Build(tmp_path)
    result = b.run({"dontUnpack": "1", "dontBuild": "1",
                    "installPhase": "mkdir -p $out; echo installed > $out/x"})
    assert result.returncode == 0, result.stderr
    assert (b.out / "x").read_text() == "installed\n"
    assert "ndx: build phase" not in result.stderr

    b2 = Build(tmp_path / "second")
    result = b2.run({"phases": "greet installPhase", "greet": "echo hi from a custom phase",
                     "installPhase": "mkdir -p $out"})
    assert result.returncode == 0, result.stderr
    assert "hi from a custom phase" in result.stdout
    assert "ndx: unpack phase" not in result.stderr


def test_do_check_runs_the_check_target(tmp_path: Path) -> None:
    src = make_tarball(tmp_path / "c.tar.gz", {
        "c/Makefile": "all:\n\ttrue\ncheck:\n\techo checked > $(OUT)\ninstall:\n\tmkdir -p $(out)\n"})
    b = Build(tmp_path)
    result = b.run({"src": str(src), "doCheck": "1", "makeFlags": f"OUT={b.tmp}/checked"})
    assert result.returncode == 0, result.stderr
    assert (b.tmp / "checked").read_text() == "checked\n"


def test_configure_gets_the_prefix_and_flags(tmp_path: Path) -> None:
    configure = "#!/bin/sh\necho \"$@\" > args\nprintf 'all:\\ninstall:\\n\\tmkdir -p $(out)\\n' > Makefile\n"
    src = make_tarball(tmp_path / "c.tar.gz", {"pkg/configure": configure},
                       modes={"pkg/configure": 0o755})
    b = Build(tmp_path)
    result = b.run({"src": str(src), "configureFlags": "--disable-nls --without-pam",
                    "postConfigure": "cp args $NDX_BUILD_TOP/args"})
    assert result.returncode == 0, result.stderr
    assert (b.top / "args").read_text() == f"--prefix={b.out} --disable-nls --without-pam\n"


def test_patches_are_applied(tmp_path: Path) -> None:
    src = make_tarball(tmp_path / "p.tar.gz", {"p/greeting": "hello\n"})
    patch = tmp_path / "fix.patch"
    patch.write_text("--- a/greeting\n+++ b/greeting\n@@ -1 +1 @@\n-hello\n+hello, patched\n")
    b = Build(tmp_path)
    result = b.run({"src": str(src), "patches": str(patch),
                    "installPhase": "mkdir -p $out; cp greeting $out/"})
    assert result.returncode == 0, result.stderr
    assert (b.out / "greeting").read_text() == "hello, patched\n"


def test_unpack_refuses_ambiguous_source_roots(tmp_path: Path) -> None:
    src = make_tarball(tmp_path / "two.tar.gz", {"a/x": "1", "b/y": "2"})
    result = Build(tmp_path).run({"src": str(src)})
    assert result.returncode != 0
    assert "expected one source directory, got 2: a b (set sourceRoot)" in result.stderr


def test_a_source_directory_is_copied_writable(tmp_path: Path) -> None:
    b = Build(tmp_path)
    src = b.store_path("mysrc", "c")
    (src / "file").write_text("data\n")
    src.chmod(0o555)
    result = b.run({"src": str(src), "installPhase": "echo more >> file; mkdir -p $out; cp file $out/"})
    src.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert (b.out / "file").read_text() == "data\nmore\n"


def test_build_command_replaces_every_phase(tmp_path: Path) -> None:
    b = Build(tmp_path)
    result = b.run({"buildCommand": "echo -n \"$text\" > $out", "text": "just this"})
    assert result.returncode == 0, result.stderr
    assert b.out.read_text() == "just this"


def test_fixup_patches_shebangs_to_runtime_inputs_only(tmp_path: Path) -> None:
    b = Build(tmp_path)
    shell_pkg = b.store_path("busybox")
    (shell_pkg / "bin").mkdir()
    (shell_pkg / "bin" / "sh").symlink_to("/bin/sh")
    install = ("mkdir -p $out/bin; "
               "printf '#!/bin/sh -e\\necho hi\\n' > $out/bin/a; "
               "printf '#!/usr/bin/env sh\\necho env\\n' > $out/bin/b; "
               "printf '#!/usr/bin/python3\\nprint(1)\\n' > $out/bin/c; "
               "chmod +x $out/bin/*")
    result = b.run({"dontUnpack": "1", "installPhase": install, "buildInputs": str(shell_pkg)})
    assert result.returncode == 0, result.stderr
    assert (b.out / "bin" / "a").read_text() == f"#!{shell_pkg}/bin/sh -e\necho hi\n"
    assert (b.out / "bin" / "b").read_text() == f"#!{shell_pkg}/bin/sh\necho env\n"
    # No python among the runtime inputs: left as it was, and said so.
    assert (b.out / "bin" / "c").read_text() == "#!/usr/bin/python3\nprint(1)\n"
    assert "no 'python3' among the runtime inputs" in result.stderr
    assert os.access(b.out / "bin" / "a", os.X_OK)


def test_fixup_removes_references_to_build_only_inputs(tmp_path: Path) -> None:
    b = Build(tmp_path)
    tool = b.store_path("build-tool", "d")
    runtime = b.store_path("runtime-lib", "f")
    install = (f"mkdir -p $out; echo 'built by {tool}/bin/cc, uses {runtime}/lib' > $out/info")
    result = b.run({"dontUnpack": "1", "installPhase": install,
                    "removeReferencesTo": str(tool)})
    assert result.returncode == 0, result.stderr
    info = (b.out / "info").read_text()
    assert f"{b.store}/{'e' * 32}-build-tool/bin/cc" in info
    assert str(runtime) in info


def test_fixup_refuses_binaries_linked_against_the_host(tmp_path: Path) -> None:
    src = tmp_path / "dyn"
    src.mkdir()
    (src / "hello.c").write_text(HELLO_C)
    (src / "Makefile").write_text(HELLO_MAKEFILE)
    b = Build(tmp_path)
    attrs = {"src": str(src), "CC": "gcc", "LDFLAGS": "", "makeFlags": f"PREFIX={b.out}"}
    result = b.run(attrs)
    assert result.returncode != 0
    assert "bin/hello needs /lib64/ld-linux-x86-64.so.2" in result.stderr

    shutil.rmtree(b.top)
    shutil.rmtree(b.out)
    b.top.mkdir()
    result = b.run({**attrs, "allowHostInterpreter": "1"})
    assert result.returncode == 0, result.stderr


def test_flags_are_words_and_keep_glob_characters(tmp_path: Path) -> None:
    src = make_tarball(tmp_path / "f.tar.gz", {
        "f/Makefile": "all:\n\techo '$(A)|$(B)|$(C)' > $(out)\ninstall:\n",
        "f/match-me": ""})
    b = Build(tmp_path)
    result = b.run({"src": str(src), "makeFlags": "A=* B=match-?",
                    "buildFlags": "  C=[x]  ", "installPhase": "true"})
    assert result.returncode == 0, result.stderr
    assert b.out.read_text() == "*|match-?|[x]\n"
