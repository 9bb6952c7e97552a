"""`onevoice serve`'s embedded worker in a process of its own, so that web and worker use two cores.

In one process the worker's triage and database work shared the interpreter lock with the web server, and
every delivery waited behind a batch. Here the server starts this child at start-up and talks to it over a
pipe: the server sends a wake-up when something was accepted (coalesced), the child sends back the live
updates of each batch, which the server publishes to its open pages (the in-process broker lives in the
server). The database (and the intake journal) is the queue, as before, so nothing is lost in the pipe:
the child also looks for work a few times a second by itself.

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


class WorkerProcess:
    """Started and stopped by the server's lifespan; `enqueue` is what `Runtime.wake_worker` calls."""

    def __init__(self, settings: Settings, publish, target) -> None:
        """`target(settings, conn)` is the child's main function (the composition root's
        `cli.serving.worker_child`): importable by name, since the child is spawned, not forked."""
        self.settings = settings
        self.target = target
        self.publish = publish
        self._ctx = mp.get_context("spawn")
        self._send_lock = threading.Lock()
        self._last_wake = 0.0
        self._stopping = False
        self._conn = None
        self.proc = None

    def start(self) -> None:
        parent, child = self._ctx.Pipe()
        self.proc = self._ctx.Process(target=self.target, args=(self.settings, child), name="onevoice-worker",
                                      daemon=True)
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
            try:
                self.publish(events)
            except Exception:  # a page's queue problem must not stop the pipe
                log.exception("publishing the worker's live updates failed")
        proc.join(5)
        if not self._stopping:
            log.error("the worker process exited (code %s); starting it again", proc.exitcode)
            time.sleep(1)
            if not self._stopping:
                self.start()

    def enqueue(self, ids: list[int]) -> None:
        now = time.monotonic()
        if not ids or now - self._last_wake < WAKE_EVERY or self._conn is None:
            return
        self._last_wake = now
        # OSError/ValueError: the child is being restarted; it looks for work when it starts.
        with self._send_lock, contextlib.suppress(OSError, ValueError):
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
