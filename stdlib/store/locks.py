"""Locks between ndx processes sharing one store, all `flock`s on files in the state
directory (released by the kernel when a process dies, even by kill -9).

* a **path lock** per store path being built or added: the same derivation is built once
  while the others wait, different ones proceed in parallel;
* the **GC lock**: every process that adds paths holds it shared while it works, the
  garbage collector holds it exclusive, so nothing is collected halfway through a build;
* a **session** per open store: a temporary-roots file held locked for the process's
  life. It lists the paths the process has added or used, which the collector keeps,
  and it tells the next process whether temporary files tagged with its token are
  leftovers of a dead one.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager


def _try_flock(fd: int, operation: int, blocking: bool) -> bool:
    try:
        fcntl.flock(fd, operation | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


class PathLock:
    """An exclusive lock on one lock file; the file can be deleted by its holder
    (waiters notice the deleted inode and retry on a fresh file)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.fd = -1

    def acquire(self, blocking: bool = True, on_wait: Callable[[], None] | None = None) -> bool:
        waited = False
        while True:
            fd = os.open(self.file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            if not _try_flock(fd, fcntl.LOCK_EX, False):
                if not blocking:
                    os.close(fd)
                    return False
                if on_wait is not None and not waited:
                    on_wait()
                    waited = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink == 0:
                # The previous holder deleted the file after finishing: lock a fresh one.
                os.close(fd)
                continue
            self.fd = fd
            return True

    def release(self, delete: bool = False) -> None:
        if self.fd < 0:
            return
        if delete:
            try:
                os.unlink(self.file)
            except FileNotFoundError:
                pass
        os.close(self.fd)
        self.fd = -1


@contextmanager
def path_locks(files: Iterable[str], on_wait: Callable[[], None] | None = None,
               delete: bool = False) -> Iterator[None]:
    """Hold the locks on `files` (taken in sorted order, so no two processes deadlock)."""
    held: list[PathLock] = []
    try:
        for file in sorted(set(files)):
            lock = PathLock(file)
            lock.acquire(True, on_wait)
            held.append(lock)
        yield
    finally:
        for lock in reversed(held):
            lock.release(delete)


class GCLock:
    """The collector's lock: shared while this process adds or builds paths (re-entrant
    across threads), exclusive for the garbage collector."""

    def __init__(self, file: str) -> None:
        self.file = file
        self._fd = -1
        self._users = 0
        self._mutex = threading.Lock()

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._mutex:
            if self._users == 0:
                self._fd = os.open(self.file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                fcntl.flock(self._fd, fcntl.LOCK_SH)
            self._users += 1
        try:
            yield
        finally:
            with self._mutex:
                self._users -= 1
                if self._users == 0:
                    os.close(self._fd)
                    self._fd = -1

    @contextmanager
    def exclusive(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        fd = os.open(self.file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            if not _try_flock(fd, fcntl.LOCK_EX, False):
                if on_wait is not None:
                    on_wait()
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


class Session:
    """This process's temporary roots, in `<dir>/<token>`, locked while it lives."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.file = os.path.join(directory, self.token)
        # Lock under a name the collector ignores, then rename: the file is never
        # visible unlocked, so it is never mistaken for a dead session's.
        pending = os.path.join(directory, "." + self.token)
        self._fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                           0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        os.rename(pending, self.file)
        self._roots: set[str] = set()
        self._mutex = threading.Lock()

    def add(self, paths: Iterable[str]) -> None:
        """Record `paths` as in use by this process."""
        with self._mutex:
            new = [p for p in paths if p not in self._roots]
            if new:
                self._roots.update(new)
                os.write(self._fd, "".join(p + "\n" for p in new).encode())

    def close(self) -> None:
        if self._fd >= 0:
            try:
                os.unlink(self.file)
            except FileNotFoundError:
                pass
            os.close(self._fd)
            self._fd = -1


def live_tokens(directory: str) -> tuple[set[str], set[str]]:
    """(tokens of live sessions, tokens of dead ones) among the files in `directory`."""
    live: set[str] = set()
    dead: set[str] = set()
    for token in os.listdir(directory):
        if token.startswith("."):
            continue
        fd = os.open(os.path.join(directory, token), os.O_RDONLY | os.O_CLOEXEC)
        try:
            if _try_flock(fd, fcntl.LOCK_SH, False):
                dead.add(token)
            else:
                live.add(token)
        finally:
            os.close(fd)
    return live, dead


def temp_roots(directory: str) -> set[str]:
    """Every path listed by a live session (dead sessions' files are removed)."""
    roots: set[str] = set()
    live, dead = live_tokens(directory)
    for token in dead:
        try:
            os.unlink(os.path.join(directory, token))
        except FileNotFoundError:
            pass
    for token in live:
        try:
            with open(os.path.join(directory, token)) as file:
                roots.update(line.strip() for line in file if line.strip())
        except FileNotFoundError:
            pass
    return roots
