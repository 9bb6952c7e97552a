"""Whose turn it is at SQLite's write lock, between the processes of `onevoice serve` (worker/child.py).

SQLite has one write lock and no queue: whoever tries first after a release has it (db._sqlite_begin tries every
millisecond). With two worker processes writing batch after batch (~0.25 s under the lock each), a request of the
batched API (its insert holds the lock ~0.06 s) raced the other worker at every release and lost about half the
time, so accepting 50,000 messages took 17-22 s with two workers against 13-15 s with one (bench/README.md,
issue 14, round 8). So the server counts its writers waiting for the lock in memory it shares with its worker
processes (`count_waiting`), and a worker process about to take the lock lets them go first (`defer`), for at
most DEFER_SECONDS per transaction: a steady stream of requests slows the workers, never stops them.
"""

from __future__ import annotations

import threading
import time

DEFER_SECONDS = 0.05
POLL = 0.001

_counted = None  # the server: the shared counter its waiting writers add themselves to
_count_guard = threading.Lock()  # its threads update the counter; a RawValue's += is not atomic
_deferred_to = None  # a worker process: the server's counter


def count_waiting(counter) -> None:
    """In the server: its writers waiting for the lock are counted in `counter` (a shared int, or None)."""
    global _counted
    _counted = counter


def defer_to(counter) -> None:
    """In a worker process: before taking the lock, wait while `counter` says the server's writers wait."""
    global _deferred_to
    _deferred_to = counter


def waiting(delta: int) -> None:
    """A writer of this process starts (+1) or stops (-1) waiting for the lock."""
    counter = _counted
    if counter is not None:
        with _count_guard:
            counter.value += delta


def defer() -> None:
    """Let the server's waiting writers go first, for at most DEFER_SECONDS."""
    counter = _deferred_to
    if counter is None or counter.value <= 0:
        return
    deadline = time.monotonic() + DEFER_SECONDS
    while counter.value > 0 and time.monotonic() < deadline:
        time.sleep(POLL)
