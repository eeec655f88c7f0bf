"""Crashes and concurrency: kill -9 or Ctrl-C at any moment leaves no half-valid path
and the next process cleans up; parallel processes build a derivation once and
different derivations side by side; the collector waits for running builds."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from ndx.stdlib.store.disk import DiskStore

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
FILES = 150


def start_worker(store_dir: str, drvs: list[str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, WORKER, *extra, store_dir, *drvs],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_text(path: str) -> str:
    with open(path) as file:
        return file.read()


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line contains `text` (our unique temporary store path)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                if text.encode() in file.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def wait_until_gone(text: str) -> list[int]:
    for _ in range(100):
        left = processes_mentioning(text)
        if not left:
            return []
        time.sleep(0.05)
    return processes_mentioning(text)


@pytest.fixture
def make_chain(make):
    """make_chain(n): six derivations in two chains (fresh ones for each n), each writing
    many files slowly enough to be killed in the middle of any phase."""

    def chain(n: int) -> list:
        drvs = []
        for branch in ("x", "y"):
            previous = None
            for step in range(3):
                script = (f"mkdir $out; i=0; while [ $i -lt {FILES} ]; do "
                          "echo $i > $out/f$i; i=$((i+1)); done; sleep 0.2"
                          + ("; echo $dep0 > $out/prev" if previous else ""))
                previous = make(f"{branch}{step}", script, env={"round": str(n)},
                                deps=(previous,) if previous else ())
                drvs.append(previous)
        return drvs

    return chain


def check_consistent(store_dir: str, drvs) -> DiskStore:
    store = DiskStore(store_dir)       # opening cleans up what the dead process left
    report = store.verify(check_contents=True)
    assert report.ok, report.problems
    assert os.listdir(os.path.join(store.state_dir, "tmp")) == []
    for drv in drvs:
        out = drv.outputs["out"]
        if store.is_valid(out):
            names = os.listdir(store.real_path(out))
            assert len([n for n in names if n.startswith("f")]) == FILES
    return store


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_killed_builds_leave_no_half_valid_path(store, make_chain, tmp_path, how) -> None:
    store_dir = store.physical_dir
    source = tmp_path / "source"
    source.mkdir()
    for i in range(300):
        (source / f"s{i}").write_text(f"source file {i}\n" * 20)
    chains = [make_chain(n) for n in range(7)]
    every = [drv for chain in chains for drv in chain]
    store.close()
    rng = random.Random(how)
    interrupted = 0
    for chain in chains[:6]:
        targets = [chain[2].drv_path, chain[5].drv_path]
        worker = start_worker(store_dir, targets, "--jobs", "2", "--add", str(source))
        time.sleep(rng.uniform(0.2, 1.0))
        running = worker.poll() is None
        interrupted += running
        worker.send_signal(how)
        _, err = worker.communicate()
        assert running or worker.returncode == 0, err
        assert "Traceback" not in err or "KeyboardInterrupt" in err, err
        assert wait_until_gone(store_dir) == [], "builders outlived their ndx process"
        check_consistent(store_dir, every).close()
    assert interrupted >= 4
    targets = [d.drv_path for chain in chains for d in (chain[2], chain[5])]
    worker = start_worker(store_dir, targets, "--jobs", "2")
    _, err = worker.communicate()
    assert worker.returncode == 0, err
    final = check_consistent(store_dir, every)
    assert all(final.is_valid(d.outputs["out"]) for d in every)
    final.close()


def test_same_derivation_is_built_once_by_parallel_processes(store, make) -> None:
    drv = make("shared", "sleep 1; echo shared > $out")
    store.close()
    workers = [start_worker(store.physical_dir, [drv.drv_path]) for _ in range(4)]
    results = []
    for worker in workers:
        out, err = worker.communicate()
        assert worker.returncode == 0, err
        results.append(json.loads(out))
    assert sum(len(r["built"]) for r in results) == 1
    assert any("waiting for another process" in m for r in results for m in r["messages"])


def test_different_derivations_build_in_parallel_processes(store, make) -> None:
    stamp = ("cut -d' ' -f1 /proc/uptime > $out/start; sleep 1.5; "
             "cut -d' ' -f1 /proc/uptime > $out/end")
    one = make("one", "mkdir $out; " + stamp)
    two = make("two", "mkdir $out; " + stamp)
    store.close()
    workers = [start_worker(store.physical_dir, [d.drv_path]) for d in (one, two)]
    for worker in workers:
        _, err = worker.communicate()
        assert worker.returncode == 0, err
    reopened = DiskStore(store.physical_dir)
    try:
        spans = []
        for drv in (one, two):
            base = reopened.real_path(drv.outputs["out"])
            spans.append(tuple(float(read_text(f"{base}/{n}")) for n in ("start", "end")))
        (start1, end1), (start2, end2) = spans
        assert start1 < end2 and start2 < end1, "the builds did not overlap"
    finally:
        reopened.close()


def test_collector_waits_for_running_builds(store, make) -> None:
    drv = make("slow", "sleep 1.5; echo > $out")
    store.close()
    worker = start_worker(store.physical_dir, [drv.drv_path])
    collector = DiskStore(store.physical_dir)
    try:
        for _ in range(100):     # wait until the worker holds the build lock
            if os.path.exists(collector.lock_file(drv.outputs["out"])):
                break
            time.sleep(0.05)
        waited = []
        collector.collect_garbage(on_wait=lambda: waited.append(True))
        _, err = worker.communicate()
        assert worker.returncode == 0, err
        assert waited == [True]
        assert collector.verify(check_contents=True).ok
    finally:
        collector.close()
