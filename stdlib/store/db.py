"""The store database: which paths are valid, what they reference, who derived them.

One SQLite file in the state directory, in WAL mode so readers never block the writer
and several `ndx-build` processes share it safely. A path is valid exactly when it has a
row in `ValidPaths`; the row is committed only after the path is in place.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS ValidPaths (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    path             TEXT UNIQUE NOT NULL,  -- logical path, /ndx/store/<hash>-<name>
    hash             TEXT NOT NULL,         -- sha256 of the NAR, "sha256:<base32>"
    registrationTime INTEGER NOT NULL,
    deriver          TEXT,                  -- the .drv that built it, if any
    narSize          INTEGER NOT NULL,
    ca               TEXT                   -- content address ("fixed:r:sha256:…", "text:…")
);
CREATE TABLE IF NOT EXISTS Refs (
    referrer  INTEGER NOT NULL REFERENCES ValidPaths(id) ON DELETE CASCADE,
    reference INTEGER NOT NULL REFERENCES ValidPaths(id) ON DELETE RESTRICT,
    PRIMARY KEY (referrer, reference)
);
CREATE INDEX IF NOT EXISTS IndexReference ON Refs(reference);
CREATE TRIGGER IF NOT EXISTS DeleteSelfRefs BEFORE DELETE ON ValidPaths
  BEGIN DELETE FROM Refs WHERE referrer = old.id AND reference = old.id; END;
CREATE TABLE IF NOT EXISTS DerivationOutputs (
    drv  INTEGER NOT NULL REFERENCES ValidPaths(id) ON DELETE CASCADE,
    id   TEXT NOT NULL,                     -- output name: out, bin, dev, …
    path TEXT NOT NULL,
    PRIMARY KEY (drv, id)
);
CREATE INDEX IF NOT EXISTS IndexDerivationOutputs ON DerivationOutputs(path);
CREATE TABLE IF NOT EXISTS Meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class PathInfo:
    """What the database knows about one valid path."""

    path: str
    nar_hash: str
    nar_size: int
    references: frozenset[str]
    deriver: str | None
    registration_time: int
    ca: str | None


@dataclass(frozen=True)
class Registration:
    """A path about to become valid."""

    path: str
    nar_hash: str
    nar_size: int
    references: frozenset[str]
    deriver: str | None = None
    ca: str | None = None
    drv_outputs: tuple[tuple[str, str], ...] = ()   # for a .drv: (output name, path)


class Database:
    """A connection to the store database, shared by the threads of one process."""

    def __init__(self, file: str) -> None:
        self._conn = sqlite3.connect(file, timeout=600, isolation_level=None,
                                     check_same_thread=False)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._create()

    def _create(self) -> None:
        conn = self._conn
        existing = conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='Meta'").fetchone()
        if existing is None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in SCHEMA.split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO Meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction, committed when the block succeeds."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ---- queries ----

    def is_valid(self, path: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM ValidPaths WHERE path = ?",
                                      (path,)).fetchone() is not None

    def valid_paths(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._conn.execute("SELECT path FROM ValidPaths")}

    def info(self, path: str) -> PathInfo | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, hash, narSize, deriver, registrationTime, ca FROM ValidPaths "
                "WHERE path = ?", (path,)).fetchone()
            if row is None:
                return None
            refs = frozenset(r[0] for r in self._conn.execute(
                "SELECT p.path FROM Refs r JOIN ValidPaths p ON p.id = r.reference "
                "WHERE r.referrer = ?", (row[0],)))
        return PathInfo(path, row[1], row[2], refs, row[3], row[4], row[5])

    def references(self, path: str) -> frozenset[str]:
        with self._lock:
            return frozenset(r[0] for r in self._conn.execute(
                "SELECT p.path FROM ValidPaths v JOIN Refs r ON r.referrer = v.id "
                "JOIN ValidPaths p ON p.id = r.reference WHERE v.path = ?", (path,)))

    def referrers(self, path: str) -> frozenset[str]:
        with self._lock:
            return frozenset(r[0] for r in self._conn.execute(
                "SELECT p.path FROM ValidPaths v JOIN Refs r ON r.reference = v.id "
                "JOIN ValidPaths p ON p.id = r.referrer WHERE v.path = ?", (path,)))

    def all_references(self) -> dict[str, set[str]]:
        """Every valid path → its references (one query, for the garbage collector)."""
        with self._lock:
            graph: dict[str, set[str]] = {p: set() for p in self.valid_paths()}
            for referrer, reference in self._conn.execute(
                    "SELECT a.path, b.path FROM Refs r JOIN ValidPaths a ON a.id = r.referrer "
                    "JOIN ValidPaths b ON b.id = r.reference"):
                graph[referrer].add(reference)
        return graph

    def derivers_of(self, path: str) -> list[tuple[str, str]]:
        """The (drv path, output name) pairs known to produce `path`."""
        with self._lock:
            return [(r[0], r[1]) for r in self._conn.execute(
                "SELECT v.path, o.id FROM DerivationOutputs o JOIN ValidPaths v "
                "ON v.id = o.drv WHERE o.path = ?", (path,))]

    # ---- updates ----

    def register(self, conn: sqlite3.Connection, regs: Iterable[Registration]) -> None:
        """Insert `regs` inside the caller's transaction `conn`. Their references must be
        valid already or among `regs` (outputs may refer to each other and to themselves)."""
        regs = list(regs)
        now = int(time.time())
        ids: dict[str, int] = {}
        for reg in regs:
            conn.execute(
                "INSERT INTO ValidPaths (path, hash, registrationTime, deriver, narSize, ca) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
                "hash=excluded.hash, narSize=excluded.narSize, "
                "deriver=COALESCE(excluded.deriver, deriver)",
                (reg.path, reg.nar_hash, now, reg.deriver, reg.nar_size, reg.ca))
            (ids[reg.path],) = conn.execute("SELECT id FROM ValidPaths WHERE path = ?",
                                            (reg.path,)).fetchone()
        for reg in regs:
            for ref in reg.references:
                ref_id = ids.get(ref)
                if ref_id is None:
                    row = conn.execute("SELECT id FROM ValidPaths WHERE path = ?",
                                       (ref,)).fetchone()
                    if row is None:
                        raise ValueError(f"cannot register '{reg.path}': its reference "
                                         f"'{ref}' is not valid")
                    ref_id = row[0]
                conn.execute("INSERT OR IGNORE INTO Refs VALUES (?, ?)", (ids[reg.path], ref_id))
            for output, out_path in reg.drv_outputs:
                conn.execute("INSERT OR REPLACE INTO DerivationOutputs VALUES (?, ?, ?)",
                             (ids[reg.path], output, out_path))

    def invalidate(self, conn: sqlite3.Connection, path: str) -> None:
        """Remove `path`'s row inside a transaction (fails if a valid path refers to it)."""
        conn.execute("DELETE FROM ValidPaths WHERE path = ?", (path,))
