"""`onevoice serve`'s worker process: its main function, in a module of its own.

The child is spawned, not forked, so it imports what its target's module imports: from `cli.serving` that
was the demo's seeding, the migrations and every scheduler job (~0.3-0.4 s of a child's start, twice with two
workers, while the first requests were already waiting); this module imports only what a worker runs.
"""

from __future__ import annotations

import os
import threading

from onevoice.governance.hooks import install
from onevoice.ops import heap
from onevoice.ops.logging import configure_logging
from onevoice.runtime import build_processor, build_runtime
from onevoice.settings import Settings
from onevoice.worker.child import (
    HOLD_SECONDS,
    IDLE_SECONDS,
    LINGER_SECONDS,
    MAX_BATCH_SIZE,
    SHORT_HOLD_SECONDS,
    WORKER_INGESTED,
    WORKER_READY,
)
from onevoice.worker.runner import EmbeddedWorker
from onevoice.worker.spread import Spread


def worker_child(settings: Settings, conn, index: int = 0, count: int = 1, width=None) -> None:
    """The main function of `onevoice serve`'s worker process (worker/child.py): the embedded worker, its live
    updates sent to the server over `conn`, woken by it, gone the moment the server is. One of `count` sharing
    `width` (worker/spread.py): while the pool is wide it takes the accepted ids whose `runner.share_key`
    modulo the width is `index` (by author); only the first stores journaled deliveries."""

    configure_logging(settings.log_level, settings.log_json)
    runtime = build_runtime(settings)
    # What the worker changes that governance audits (an incident the detector reopens) is recorded here too.
    install(runtime.session_factory)
    send_lock = threading.Lock()

    def publish(events: list[dict]) -> None:
        if events:
            with send_lock:
                conn.send(events)

    def ingested() -> None:
        with send_lock:
            conn.send(WORKER_INGESTED)

    # Named apart when there are several, so that the events say which process did what.
    processor = build_processor(settings, runtime.session_factory, worker=f"embedded-{index}" if count > 1
                                else "embedded")
    # Loaded now rather than with the first unsure message, before the server answers anyone (worker/child.py).
    processor.warm()
    worker = EmbeddedWorker(processor, runtime.session_factory, publish,
                            batch_size=settings.worker_batch_size, idle_seconds=IDLE_SECONDS,
                            max_batch_size=max(MAX_BATCH_SIZE, 5 * settings.worker_batch_size),
                            ingest=runtime.ingest if index == 0 else None, linger_seconds=LINGER_SECONDS,
                            share=(index, count),
                            spread=Spread(width, index, count) if width is not None and count > 1 else None,
                            on_ingested=ingested if count > 1 else None,
                            freeze_after_warm_up=True, hold_seconds=HOLD_SECONDS,
                            short_hold_seconds=SHORT_HOLD_SECONDS,
                            waiting=runtime.journal.waiting if index == 0 and runtime.journal is not None else None)
    heap.tune()
    with send_lock:
        conn.send(WORKER_READY)
    worker.start()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            os._exit(0)  # the server is gone: stop now; an open transaction rolls back
        if message == "stop":
            worker.stop()
            runtime.dispose()
            return
        worker.enqueue([1])
