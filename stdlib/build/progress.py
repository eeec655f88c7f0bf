"""How a build run talks to the user: build output prefixed by the derivation's name,
and — on a terminal — one live status line, `[3/7 built, 1 running: redis-7.0.15,
2.1 MiB fetched]`, redrawn below the output."""

from __future__ import annotations

import sys
import threading
from typing import TextIO


class Reporter:
    """Receives a build run's events. The base class stays silent (library use)."""

    def planned(self, builds: int, fetches: int) -> None:
        """The run will build `builds` derivations, `fetches` of them downloads."""

    def started(self, drv_path: str, name: str) -> None:
        """A builder (or download) for `name` started."""

    def finished(self, drv_path: str, name: str, ok: bool) -> None:
        """It ended, successfully or not."""

    def log_line(self, name: str, line: str) -> None:
        """One line of a builder's output."""

    def fetched(self, nbytes: int) -> None:
        """`nbytes` more bytes were downloaded."""

    def message(self, text: str) -> None:
        """A notice for the user (waiting for a lock, a kept build directory, …)."""


def human_bytes(n: float) -> str:
    """`2.1 MiB` style sizes."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


class ConsoleReporter(Reporter):
    """Writes events to a stream (stderr): prefixed build output unless `quiet`, and a
    status line redrawn in place when the stream is a terminal."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False,
                 live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = self.stream.isatty() if live is None else live
        self.total = 0
        self.done = 0
        self.running: dict[str, str] = {}
        self.bytes = 0
        self._shown = False
        self._lock = threading.Lock()

    def planned(self, builds: int, fetches: int) -> None:
        with self._lock:
            self.total = builds
            self._redraw()

    def started(self, drv_path: str, name: str) -> None:
        with self._lock:
            self.running[drv_path] = name
            self._redraw()

    def finished(self, drv_path: str, name: str, ok: bool) -> None:
        with self._lock:
            self.running.pop(drv_path, None)
            if ok:
                self.done += 1
            self._redraw()

    def log_line(self, name: str, line: str) -> None:
        if self.quiet:
            return
        with self._lock:
            self._print(f"{name}> {line}")

    def fetched(self, nbytes: int) -> None:
        with self._lock:
            self.bytes += nbytes
            self._redraw()

    def message(self, text: str) -> None:
        with self._lock:
            self._print(text)

    def close(self) -> None:
        """Erase the status line (call once the run is over)."""
        with self._lock:
            self._clear()

    def status(self) -> str:
        """The status line's text."""
        parts = [f"{self.done}/{self.total} built"]
        if self.running:
            parts.append(f"{len(self.running)} running: "
                         + ", ".join(sorted(self.running.values())[:3]))
        if self.bytes:
            parts.append(f"{human_bytes(self.bytes)} fetched")
        return "[" + ", ".join(parts) + "]"

    def _print(self, text: str) -> None:
        self._clear()
        self.stream.write(text + "\n")
        self._redraw()

    def _clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self._shown = False
            self.stream.flush()

    def _redraw(self) -> None:
        if not self.live or not self.total:
            return
        self.stream.write("\r\x1b[K" + self.status())
        self.stream.flush()
        self._shown = True
