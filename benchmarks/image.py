"""Benchmark: buildImage against its lower bound and against `docker build`.

Builds an image whose closure is about 200 MB in about 10,000 files (real files copied
from this machine's /usr into a store-like tree) and, in the same run and over the same
files, measures:

* the lower bound of any image writer: `tar -c | gzip -1 | sha256sum`
  (and `tar -c | zstd -1 | sha256sum` for the zstd case);
* `docker build` of `FROM scratch` + `COPY` with the same content, on a private dockerd;
* a no-op rebuild: building the same image again when its output already exists
  (through the store's builder when ndx's store is available, which finds the output
  valid and does nothing).

It prints each time (best of --runs) and the ratios ndx/lower-bound and ndx/docker-build.
Run: `.venv/bin/python benchmarks/image.py` (root, or a user allowed to run dockerd).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ndx.stdlib.image.build import ImageSpec, StoreView, build_image

#: Host trees the benchmark's files are taken from, in this order.
SOURCES = ("/usr/lib", "/usr/share", "/usr/bin", "/usr/libexec", "/usr/sbin")
#: Files up to this size count as "small"; the rest fill up the bytes.
SMALL = 64 * 1024
STORE_NAME = "0123456789abcdfghijklmnpqrsvwxyz-bench-closure"


def pick_files(count: int, total: int) -> list[tuple[str, int]]:
    """About `count` regular files from the host summing to about `total` bytes, chosen
    deterministically (sorted walk): mostly small files, then large ones to fill up."""
    small: list[tuple[str, int]] = []
    large: list[tuple[str, int]] = []
    for source in SOURCES:
        for directory, dirs, files in os.walk(source):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(directory, name)
                try:
                    if os.path.islink(path) or not os.path.isfile(path):
                        continue
                    size = os.path.getsize(path)
                    with open(path, "rb"):
                        pass
                except OSError:
                    continue
                (small if size <= SMALL else large).append((path, size))
    chosen = small[: int(count * 0.97)]
    size = sum(s for _, s in chosen)
    for path, s in large:
        if len(chosen) >= count or size >= total:
            break
        if s <= 32 << 20 and size + s <= total * 1.02:
            chosen.append((path, s))
            size += s
    return chosen


def make_store(work: Path, files: list[tuple[str, int]]) -> tuple[StoreView, str]:
    store = work / "store"
    top = store / STORE_NAME
    for path, _ in files:
        target = top / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return StoreView(str(store)), f"/ndx/store/{STORE_NAME}"


def best(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def shell(cmd: str, cwd: Path) -> None:
    subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL)


def docker_build_time(work: Path, store: StoreView, runs: int) -> float:
    from tests.engines import start_dockerd

    context = work / "context"
    source = Path(store.real_dir) / STORE_NAME
    for directory, _, names in os.walk(source):
        rel = Path(directory).relative_to(store.real_dir)
        (context / "ndx" / "store" / rel).mkdir(parents=True, exist_ok=True)
        for name in names:
            os.link(os.path.join(directory, name), context / "ndx" / "store" / rel / name)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY ndx /ndx\n")
    engine = start_dockerd(base=str(work))
    try:
        env = {**engine.env(), "DOCKER_BUILDKIT": "0"}

        def build() -> None:
            subprocess.run(["docker", "build", "--no-cache", "-q", "-t", "bench:1", "."],
                           cwd=context, env=env, check=True, capture_output=True)
            subprocess.run(["docker", "rmi", "-f", "bench:1"], env=env, check=True,
                           stdout=subprocess.DEVNULL)

        return best(runs, build)
    finally:
        engine.stop()


def noop_rebuild_time(work: Path, store: StoreView, runs: int) -> tuple[float, str]:
    """The time to "rebuild" an image whose output is already in the store: open the store,
    instantiate the image derivation, ask the build engine for it (it finds the output
    valid and runs nothing)."""
    try:
        from ndx.evaluator.io import Derivation
        from ndx.stdlib.image.builtin import image_attrs
        from ndx.stdlib.store.disk import DiskStore
    except ImportError:
        return float("nan"), "the store is not available on this branch"
    location = str(work / "ndx-store")
    with DiskStore(location) as disk:
        closure = disk.add_path(str(Path(store.real_dir) / STORE_NAME), name="bench-closure")

    def attempt() -> list[str]:
        with DiskStore(location) as disk:
            attrs = image_attrs({"name": "bench", "copyToRoot": [closure]})
            image = disk.instantiate(Derivation(attrs["name"], "builtin", attrs["builder"],
                                                (), attrs, ("out",), {},
                                                frozenset([closure])))
            return disk.build([image.drv_path]).built

    first = time.perf_counter()
    built = attempt()
    first = time.perf_counter() - first
    assert built, "the first build should build the image"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        assert attempt() == [], "a no-op rebuild must not build anything"
        times.append(time.perf_counter() - start)
    return min(times), f"first build through the store: {first:.2f} s"


BENCH_NDX = """
let
  closure = let strict = builtins.derivationStrict {
    name = "bench-closure"; system = builtins.currentSystem; builder = "/bin/sh";
    __impureHostDeps = [ "@SOURCE@" "/usr" "/bin" "/lib" "/lib64" ]; PATH = "/usr/bin:/bin";
    args = [ "-ec" "cp -r @SOURCE@ $out" ];
  }; in { type = "derivation"; outPath = strict.out; drvPath = strict.drvPath; };
in (import <ndx/image/docker-tools.ndx>).buildImage {
  name = "bench"; tag = "1"; copyToRoot = [ closure ]; config.Cmd = [ "/bin/true" ];
}
"""


def noop_cli_time(work: Path, store: StoreView, runs: int) -> float:
    """`ndx-build` of an image whose output exists: the whole command (Python start-up,
    evaluation, the store finding the output valid)."""
    ndx_build = Path(sys.executable).parent / "ndx-build"
    project = work / "cli"
    project.mkdir()
    source = str(Path(store.real_dir) / STORE_NAME)
    (project / "bench.ndx").write_text(BENCH_NDX.replace("@SOURCE@", source))
    cmd = [str(ndx_build), "--store", str(work / "cli-store"), "bench.ndx"]
    subprocess.run(cmd, cwd=project, check=True, capture_output=True)
    return best(runs, lambda: subprocess.run(cmd, cwd=project, check=True,
                                             capture_output=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-docker", action="store_true", help="skip the docker build figure")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ndx-bench-image-"))
    try:
        files = pick_files(args.files, args.mb << 20)
        store, path = make_store(work, files)
        total = sum(s for _, s in files)
        print(f"closure: {len(files)} files, {total / 2**20:.0f} MiB "
              f"({os.cpu_count()} CPUs)")
        shell(f"tar -c {STORE_NAME} > /dev/null", Path(store.real_dir))  # warm the cache

        results: dict[str, float] = {}
        for compressor, tool in (("gz", "gzip -1"), ("zstd", "zstd -1 -q -c")):
            out = work / f"image-{compressor}.tar"
            spec = ImageSpec(name="bench", tag="1", closure=[path], compressor=compressor,
                             config={"Cmd": ["/bin/true"]})
            # Alternate the two, so both see the same load on a shared machine.
            ndx_times, bound_times = [], []
            for _ in range(args.runs):
                ndx_times.append(best(1, lambda s=spec, o=out: build_image(s, store, str(o))))
                bound_times.append(best(1, lambda t=tool: shell(
                    f"tar -c {STORE_NAME} | {t} | sha256sum", Path(store.real_dir))))
            results[f"ndx {compressor}"] = min(ndx_times)
            results[f"lower bound {compressor}"] = min(bound_times)
            print(f"  image ({compressor}): {out.stat().st_size / 2**20:.1f} MiB")
        if not args.no_docker:
            results["docker build"] = docker_build_time(work, store, args.runs)
        noop, note = noop_rebuild_time(work, store, args.runs)
        results["no-op rebuild"] = noop
        results["no-op ndx-build"] = noop_cli_time(work, store, args.runs)

        print()
        for name, seconds in results.items():
            print(f"{name:<20} {seconds:8.3f} s")
        print()
        for compressor in ("gz", "zstd"):
            ratio = results[f"ndx {compressor}"] / results[f"lower bound {compressor}"]
            print(f"ndx/lower-bound ({compressor}):".ljust(27) + f"{ratio:5.2f}x   (target <= 1.5x)")
        if "docker build" in results:
            ratio = results["ndx gz"] / results["docker build"]
            print("ndx/docker-build (gz):".ljust(27) + f"{ratio:5.2f}x   (target < 1x)")
        print("no-op rebuild (store):".ljust(27) + f"{noop:5.3f} s   (target < 0.5 s)"
              + (f"   [{note}]" if note else ""))
        cli = results["no-op ndx-build"]
        print("no-op rebuild (ndx-build):".ljust(27) + f"{cli:5.3f} s   (target < 0.5 s; the "
              "whole command: Python start-up, evaluation, store)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
