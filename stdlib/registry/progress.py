"""A progress line per blob, drawn on stderr only when it is a terminal (builds and tests
stay quiet), in the spirit of `docker pull`."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class Progress:
    """Progress of one transfer: `advance(n)` as bytes move, `finish()` at the end."""

    def __init__(self, label: str, total: int | None, *, stream: TextIO | None = None,
                 enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.total = total
        self.done = 0
        self._drawn = 0.0

    def reset(self, done: int = 0) -> None:
        self.done = done
        self._draw(force=True)

    def advance(self, n: int) -> None:
        self.done += n
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 30)
            text = (f"{self.label} [{bar:<30}] {_size(self.done)}/{_size(self.total)} "
                    f"{frac * 100:3.0f}%")
        else:
            text = f"{self.label} {_size(self.done)}"
        self.stream.write("\r" + text[:120] + "\x1b[K")
        self.stream.flush()

    def finish(self, message: str = "done") -> None:
        if not self.enabled:
            return
        self.stream.write(f"\r{self.label} {message} ({_size(self.done)})\x1b[K\n")
        self.stream.flush()
