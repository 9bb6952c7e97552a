"""`onevoice serve`'s embedded worker in a process of its own, so that web and worker use two cores.

In one process the worker's triage and database work shared the interpreter lock with the web server, and
every delivery waited behind a batch. Here the server starts this child at start-up and talks to it over a
pipe: the server sends a wake-up when something was accepted (coalesced), the child sends back the live
updates of each batch, which the server publishes to its open pages (the in-process broker lives in the
server). The database (and the intake journal) is the queue, as before, so nothing is lost in the pipe:
the child also looks for work a few times a second by itself.

On a SQLite database the server starts two (`ONEVOICE_WORKER_PROCESSES`, default 2; `WorkerPool`), but the
second works only while a backlog lasts (worker/spread.py: the pool's width, shared by the processes): then
each takes the accepted messages of its share (by author: `runner.share_key` modulo the width), and works out
triage and routing before it takes the write lock (the processor's look-ahead), so that one's triage runs
while the other writes. Only the first stores the intake journal's deliveries as messages, and tells the
server, which wakes the others. No message is processed twice whatever the shares: a message is taken only
while still `accepted`, inside the write transaction, and SQLite has one writer at a time.

The server answers nobody until its worker processes are warm (`WORKER_READY`: imported, models loaded, up to
`READY_SECONDS`): started as the first requests came in, the children's start-up (~2.5 s of CPU each) took
the cores from them.

If the child dies it is started again; if the server dies (even SIGKILL) the child sees its pipe close and
exits at once, leaving any unfinished transaction to roll back, so a restarted server's new child does not
race an orphan.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import threading
import time

from onevoice.settings import Settings

log = logging.getLogger(__name__)
WAKE_EVERY = 0.01  # at most one wake-up per 10 ms; the child polls every IDLE_SECONDS anyway
IDLE_SECONDS = 0.25
# After a batch smaller than the base batch size the child waits this long, so that under a stream of
# single deliveries it processes dozens at a time (per-batch work, like the surge detector, is shared).
LINGER_SECONDS = 0.05
# Where the intake journal says what waits (webhook deliveries), the child gathers instead until a full batch
# waits or the oldest delivery has waited this long since it was received (runner.gather_wait): a batch per
# ~0.15 s under any trickle, so that the accept-to-visible p99 stays under 250 ms at 200 deliveries/s
# (0.15 s held + a 30-message batch's processing) while at 1,000/s a batch holds ~150 instead of ~20.
HOLD_SECONDS = 0.15
# ... but only while the worker is busy (runner.busy_hold); with time to spare it holds this long, as the fixed
# linger did: a message shows ~80 ms sooner at 200/s on a quiet machine, where the CPU saved was not needed.
SHORT_HOLD_SECONDS = LINGER_SECONDS
# While a backlog lasts the worker doubles its batch up to this (runner.EmbeddedWorker), from the base batch
# (ONEVOICE_WORKER_BATCH_SIZE, 200). Each batch pays a commit and re-reads, cold, the index pages it writes to
# (another process's commit empties a SQLite connection's page cache), under the write lock; at 2,000 rather
# than 1,000 the batched API's 50,000 messages were processed sooner (bench/README.md, issue 14, round 7).
MAX_BATCH_SIZE = 2000
# What the first child sends (instead of live updates) when it stored journaled deliveries as messages, some
# of which are the other children's to process.
WORKER_INGESTED = "ingested"
# What a child sends once it has loaded what it processes with; the server waits this long for it at most.
WORKER_READY = "ready"
READY_SECONDS = 60.0


class WorkerProcess:
    """Started and stopped by the server's lifespan; `enqueue` is what `Runtime.wake_worker` calls."""

    def __init__(self, settings: Settings, publish, target, index: int = 0, count: int = 1,
                 on_ingest=None, width=None) -> None:
        """`target(settings, conn, index, count, width)` is the child's main function (the composition root's
        `cli.worker_child.worker_child`): importable by name, since the child is spawned, not forked. `on_ingest`
        is called when the child says the others have work (`WORKER_INGESTED`). `width`: the pool's shared
        width (worker/spread.py), None for a lone worker."""
        self.settings = settings
        self.target = target
        self.publish = publish
        self.index, self.count = index, count
        self.on_ingest = on_ingest
        self.width = width
        self.ready = threading.Event()
        self._ctx = mp.get_context("spawn")
        self._send_lock = threading.Lock()
        self._last_wake = 0.0
        self._stopping = False
        self._conn = None
        self.proc = None

    def start(self) -> None:
        """Start the child and wait until it is warm (`WORKER_READY`, at most READY_SECONDS)."""
        self.spawn()
        self.wait_ready()

    def wait_ready(self, timeout: float | None = None) -> None:
        timeout = READY_SECONDS if timeout is None else timeout
        if not self.ready.wait(timeout):
            log.warning("worker process %d not ready after %.0f s; serving anyway", self.index, timeout)

    def spawn(self) -> None:
        parent, child = self._ctx.Pipe()
        self.ready.clear()
        self.proc = self._ctx.Process(target=self.target,
                                      args=(self.settings, child, self.index, self.count, self.width),
                                      name=f"onevoice-worker-{self.index}", daemon=True)
        self.proc.start()
        child.close()
        self._conn = parent
        threading.Thread(target=self._listen, args=(parent, self.proc), name="onevoice-worker-pipe",
                         daemon=True).start()

    def _listen(self, conn, proc) -> None:
        while True:
            try:
                events = conn.recv()
            except (EOFError, OSError):
                break
            if events == WORKER_READY:
                self.ready.set()
                continue
            if events == WORKER_INGESTED:
                if self.on_ingest is not None:
                    self.on_ingest()
                continue
            try:
                self.publish(events)
            except Exception:  # a page's queue problem must not stop the pipe
                log.exception("publishing the worker's live updates failed")
        proc.join(5)
        if not self._stopping:
            log.error("the worker process exited (code %s); starting it again", proc.exitcode)
            time.sleep(1)
            if not self._stopping:
                self.spawn()  # not waited for: the server is answering, and the database is the queue

    def enqueue(self, ids: list[int]) -> None:
        now = time.monotonic()
        if not ids or now - self._last_wake < WAKE_EVERY or self._conn is None:
            return
        self._last_wake = now
        self.wake()

    def wake(self) -> None:
        # OSError/ValueError: the child is being restarted; it looks for work when it starts.
        with self._send_lock, contextlib.suppress(OSError, ValueError, AttributeError):
            self._conn.send(None)

    def stop(self, timeout: float = 15) -> None:
        self._stopping = True
        if self._conn is not None:
            with self._send_lock, contextlib.suppress(OSError, ValueError):
                self._conn.send("stop")
        if self.proc is not None:
            self.proc.join(timeout)
            if self.proc.is_alive():
                self.proc.terminate()
                self.proc.join(5)


class WorkerPool:
    """Several worker processes on one SQLite database (module docstring), behind `WorkerProcess`'s interface;
    the first alone until a backlog widens the pool (worker/spread.py)."""

    def __init__(self, settings: Settings, publish, target, count: int) -> None:
        # Shared memory, not a message: each worker reads it before each batch. Set by the first worker only.
        self.width = mp.get_context("spawn").RawValue("i", 1)
        self.workers = [WorkerProcess(settings, publish, target, index, count, on_ingest=self._wake_others,
                                      width=self.width)
                        for index in range(count)]

    def _wake_others(self) -> None:
        for worker in self.workers[1:]:
            worker.wake()

    def start(self) -> None:
        # All spawned first, so that they warm up side by side (one per core).
        for worker in self.workers:
            worker.spawn()
        for worker in self.workers:
            worker.wait_ready()

    def enqueue(self, ids: list[int]) -> None:
        for worker in self.workers:
            worker.enqueue(ids)

    def stop(self, timeout: float = 15) -> None:
        for worker in self.workers:
            worker.stop(timeout)
