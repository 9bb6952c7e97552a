"""The intake journal: verified webhook deliveries made durable in groups, before anything reads them.

Platforms push one event per request and retry whatever is not answered 200 quickly. Storing each
delivery as messages in its own transaction costs a commit per request and waits for the database's
write lock, which the worker holds while it processes a batch. So on the embedded default (SQLite) a
verified delivery is only appended here: its own SQLite file beside the database (`<db>-intake`), WAL
with `synchronous=FULL`, written by one thread that takes every delivery waiting and commits them in one
transaction (group commit: one fsync for all the requests that arrived meanwhile). A request is answered
200 only when the commit that holds its delivery has returned, so every acknowledged delivery is on disk.

The worker then reads pending deliveries in order, parses and stores them as messages in one database
transaction (pipeline/ingest.py), and only after that commits marks them done here. A crash between the
two re-reads them on restart; intake is idempotent on (channel, external id), so nothing is stored or
processed twice. A delivery repeated byte for byte (a platform's retry) is absorbed here already: its
digest is unique per channel for as long as done rows are kept (`KEEP_SECONDS`, beyond Meta's 36 hours
of retries).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import sqlite3
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

import orjson

log = logging.getLogger(__name__)
KEEP_SECONDS = 48 * 3600
MAX_GROUP = 2000
LAST_SEQ = 2**63 - 1  # SQLite's largest integer: `through` for no bound
SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    digest BLOB NOT NULL,
    received_at REAL NOT NULL,
    headers BLOB NOT NULL,
    body BLOB NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (channel_id, digest)
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (done, seq);
"""


@dataclass(frozen=True)
class Delivery:
    seq: int
    channel_id: int
    received_at: float
    headers: dict
    body: bytes
    attempts: int


def journal_path(database_url: str) -> str | None:
    """The journal's file for a SQLite database URL; None where there is no file (in-memory, other databases)."""
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.split("///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return path + "-intake"


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: the WAL is fsynced at every commit, so a 200 outlives a power cut as well as a crash.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    # A delivery's body is dropped once stored as messages (and erased there if need be): overwritten with
    # zeros in the file, not left in a free page (the default of Debian's SQLite, not of every build).
    conn.execute("PRAGMA secure_delete=ON")
    return conn


class IntakeJournal:
    """Append verified deliveries (group commit, from any thread) and hand them to the worker in order."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()
        self._reader = _connect(path)
        self._reader.executescript(SCHEMA)
        # The worker's side only marks deliveries done (and counts retries): a mark lost to a power cut makes
        # the worker store those deliveries again, which intake's (channel, external id) makes a no-op. So its
        # commits need not wait for an fsync each (WAL with NORMAL stays consistent); the appends still do.
        self._reader.execute("PRAGMA synchronous=NORMAL")
        self._next_purge = 0.0
        self.on_append = None  # called after each group commit (wakes the embedded worker)

    # --- intake side ----------------------------------------------------------------------------------

    def append(self, channel_id: int, headers: dict, body: bytes) -> Future:
        """Queue a delivery; the future's result is (seq, duplicate) once it is durable, or the error."""
        future: Future = Future()
        digest = hashlib.sha256(body).digest()
        self._queue.put((channel_id, digest, time.time(), orjson.dumps(headers), body, future))
        if self._writer is None:
            with self._lock:
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write_loop, name="onevoice-journal", daemon=True)
                    self._writer.start()
        return future

    def _write_loop(self) -> None:
        conn = _connect(self.path)
        while True:
            group = [self._queue.get()]
            while len(group) < MAX_GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                results = self._commit(conn, group)
            except Exception as exc:  # the disk is full or gone: every request of the group gets the error
                log.exception("intake journal commit failed")
                with contextlib.suppress(sqlite3.OperationalError):
                    conn.execute("ROLLBACK")
                for item in group:
                    item[-1].set_exception(exc)
                continue
            for item, result in zip(group, results, strict=True):
                item[-1].set_result(result)
            if self.on_append is not None:
                self.on_append()

    @staticmethod
    def _commit(conn: sqlite3.Connection, group: list) -> list[tuple[int, bool]]:
        conn.execute("BEGIN IMMEDIATE")
        results = []
        for channel_id, digest, received_at, headers, body, _future in group:
            cur = conn.execute("INSERT OR IGNORE INTO deliveries (channel_id, digest, received_at, headers, body) "
                               "VALUES (?, ?, ?, ?, ?)", (channel_id, digest, received_at, headers, body))
            if cur.rowcount:
                results.append((cur.lastrowid, False))
            else:
                seq = conn.execute("SELECT seq FROM deliveries WHERE channel_id = ? AND digest = ?",
                                   (channel_id, digest)).fetchone()[0]
                results.append((seq, True))
        conn.execute("COMMIT")
        return results

    # --- worker side ----------------------------------------------------------------------------------

    def pending(self, limit: int, through: int | None = None) -> list[Delivery]:
        """The oldest deliveries not yet stored as messages; `through`: only those up to that seq."""
        with self._lock:
            rows = self._reader.execute(
                "SELECT seq, channel_id, received_at, headers, body, attempts FROM deliveries "
                "WHERE done = 0 AND seq <= ? ORDER BY seq LIMIT ?",
                (LAST_SEQ if through is None else through, limit)).fetchall()
        return [Delivery(r[0], r[1], r[2], orjson.loads(r[3]), bytes(r[4]), r[5]) for r in rows]

    def backlog(self, through: int | None = None) -> int:
        """How many deliveries wait (`through`: up to that seq)."""
        with self._lock:
            return self._reader.execute("SELECT count(*) FROM deliveries WHERE done = 0 AND seq <= ?",
                                        (LAST_SEQ if through is None else through,)).fetchone()[0]

    def last_seq(self) -> int:
        """The newest delivery's seq (0 when there is none): what has been received until now."""
        with self._lock:
            return self._reader.execute("SELECT coalesce(max(seq), 0) FROM deliveries").fetchone()[0]

    def waiting(self, enough: int) -> tuple[int, float | None]:
        """How many deliveries wait for the worker (counted up to `enough`), and when the oldest new one was
        received (epoch seconds; None if none). One being retried (`retry_later`) is not "new": its age must
        not make the worker stop gathering."""
        with self._lock:
            count = self._reader.execute(
                "SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE done = 0 LIMIT ?)", (enough,)).fetchone()[0]
            row = self._reader.execute("SELECT received_at FROM deliveries WHERE done = 0 AND attempts = 0 "
                                       "ORDER BY seq LIMIT 1").fetchone() if count else None
        return count, row[0] if row else None

    def mark_done(self, seqs: list[int]) -> None:
        """After the messages of these deliveries are committed in the database. The body is dropped (the
        messages hold what the platform sent); the digest stays to absorb retries."""
        if not seqs:
            return
        with self._lock:
            self._reader.execute("BEGIN IMMEDIATE")
            self._reader.executemany("UPDATE deliveries SET done = 1, body = x'', headers = x'7b7d' WHERE seq = ?",
                                     [(s,) for s in seqs])
            if time.monotonic() > self._next_purge:  # a scan of the done rows: once a minute is enough
                self._reader.execute("DELETE FROM deliveries WHERE done = 1 AND received_at < ?",
                                     (time.time() - KEEP_SECONDS,))
                self._next_purge = time.monotonic() + 60
            self._reader.execute("COMMIT")

    def retry_later(self, seq: int) -> int:
        with self._lock:
            self._reader.execute("UPDATE deliveries SET attempts = attempts + 1 WHERE seq = ?", (seq,))
            return self._reader.execute("SELECT attempts FROM deliveries WHERE seq = ?", (seq,)).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._reader.close()

