"""Parser throughput: lines of realistic ndx per second, against `nix-instantiate --parse`.

    python benchmarks/parse.py [--lines N] [--repeat R] [--save corpus.ndx] [--profile]

The corpus is generated (deterministically) in the style of nixpkgs package files: a
function with a set pattern, a `let`, `stdenv.mkDerivation rec { … }` with nested sets,
lists, strings and indented strings with interpolation, `with`, `inherit`, `or`
defaults, arithmetic and comparisons. All packages sit in one attribute set of at least
`--lines` lines.

Both parsers read the same file, in the same run; each figure is the best of `--repeat`
runs, in CPU seconds (user + system, of this process or of the `nix-instantiate` child)
so that other work on a shared machine does not count. Nix's time includes starting the process and printing its result (measured
separately on a one-line file and reported, not subtracted).
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = '''  {name} = {{ lib, stdenv, fetchurl, pkg-config, {deps}, withSsl ? true, extraFlags ? [ ], ... }}:
    let
      version = "{version}";
      pname = "{name}";
      flags = [ "PREFIX=${{placeholder "out"}}" "MALLOC=libc" ] ++ extraFlags;
      isOld = lib.versionOlder version "{old}";
    in
    stdenv.mkDerivation rec {{
      inherit pname version;
      src = fetchurl {{
        url = "https://download.example.org/releases/${{pname}}-${{version}}.tar.gz";
        sha256 = "{hash}";
      }};
      nativeBuildInputs = [ pkg-config ];
      buildInputs = [ {first_dep} ] ++ lib.optional withSsl {second_dep};
      makeFlags = flags ++ lib.optionals stdenv.isLinux [ "USE_SYSTEMD=no" ];
      enableParallelBuilding = true;
      doCheck = !stdenv.isDarwin && version != "{old}";
      NIX_CFLAGS_COMPILE = if isOld then "-O2 -fcommon" else "-O{level}";
      postPatch = \'\'
        substituteInPlace src/Makefile \\\\
          --replace "-O2" "-O${{toString {level}}}"
        for f in ${{lib.concatStringsSep " " sources}}; do
          echo "patching $f" >&2
        done
      \'\';
      sources = map (x: "src/${{x}}.c") [ "main" "util" "net{index}" ];
      passthru.tests = {{
        smoke = runCommand "${{pname}}-test" {{ }} "${{placeholder "out"}}/bin/{name} --version";
        version = lib.versions.majorMinor version;
      }};
      passthru.updateScript.command = [ ./update.sh pname ];
      meta = with lib; {{
        description = "{description}";
        homepage = "https://{name}.example.org";
        license = licenses.{license};
        platforms = platforms.{platform};
        maintainers = with maintainers; [ {maint1} {maint2} ];
        priority = (meta.priority or 0) + {index} * 2 - 1;
      }};
    }};
'''

WORDS = ["redis", "nginx", "curl", "zlib", "openssl", "busybox", "musl", "sqlite", "lua",
         "jq", "htop", "tmux", "vim", "git", "less", "gzip", "xz", "zstd", "pcre", "expat"]
LICENSES = ["bsd3", "mit", "gpl2Plus", "asl20", "lgpl21"]
PLATFORMS = ["all", "linux", "unix"]
PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank"]


def make_corpus(min_lines: int, seed: int = 1) -> str:
    """An attribute set of generated packages, at least `min_lines` lines long."""
    rng = random.Random(seed)
    parts = ["pkgs: with pkgs; {\n"]
    lines = 1
    index = 0
    while lines < min_lines:
        word = rng.choice(WORDS)
        name = f"{word}_{index}"
        deps = [rng.choice(WORDS) + f"_{rng.randint(0, 9)}" for _ in range(2)]
        text = PACKAGE.format(
            name=name, deps=", ".join(sorted(set(deps))), first_dep=deps[0],
            second_dep=deps[1], version=f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{index}",
            old=f"{rng.randint(1, 3)}.0", hash=f"{rng.getrandbits(208):052x}",
            level=rng.randint(1, 3), index=index, license=rng.choice(LICENSES),
            platform=rng.choice(PLATFORMS), maint1=rng.choice(PEOPLE), maint2=rng.choice(PEOPLE),
            description=f"The {word} package, variant {index} (generated)")
        parts.append(text)
        lines += text.count("\n")
        index += 1
    parts.append("}\n")
    return "".join(parts)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: on a shared machine it
    measures the work done, where wall time would also count waiting for a core."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best_time(run, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = cpu_seconds()
        run()
        best = min(best, cpu_seconds() - start)
    return best


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--lines", type=int, default=20_000)
    options.add_argument("--repeat", type=int, default=7)
    options.add_argument("--save", metavar="FILE", help="also write the corpus to FILE")
    options.add_argument("--profile", action="store_true", help="print a cProfile of one parse")
    args = options.parse_args()

    from ndx.lang import parse

    text = make_corpus(args.lines)
    lines = text.count("\n")
    if args.save:
        Path(args.save).write_text(text)
    with tempfile.TemporaryDirectory() as work:
        corpus = Path(work, "corpus.ndx")
        corpus.write_text(text)
        parse(text, str(corpus))  # warm up: load the parse table, fill caches
        ours = best_time(lambda: parse(text, str(corpus)), args.repeat)
        print(f"corpus: {lines} lines, {len(text)} bytes")
        print(f"ndx parse:           {ours * 1000:8.1f} ms  {lines / ours:10,.0f} lines/s")
        nix = shutil.which("nix-instantiate")
        if nix is None:
            print("nix-instantiate: not installed, no reference ratio")
        else:
            one_line = Path(work, "one.nix")
            one_line.write_text("1\n")

            def run_nix(path: Path) -> None:
                subprocess.run([nix, "--parse", str(path)], check=True,
                               stdout=subprocess.DEVNULL)

            nix_time = best_time(lambda: run_nix(corpus), args.repeat)
            startup = best_time(lambda: run_nix(one_line), args.repeat)
            print(f"nix-instantiate:     {nix_time * 1000:8.1f} ms  {lines / nix_time:10,.0f}"
                  f" lines/s  (of which {startup * 1000:.1f} ms process start-up)")
            print(f"ratio ndx/nix:       {nix_time / ours:8.3f}  (ndx takes {ours / nix_time:.1f}x"
                  " the time of Nix's C++ parser)")
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            parse(text, str(corpus))
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
