"""Periodic jobs in a background thread (embedded default): sandbox traffic, channel polling."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    every: float
    run: Callable[[], object]
    next_at: float = 0.0


class Scheduler:
    def __init__(self, jobs: list[Job] | None = None) -> None:
        self.jobs = list(jobs or [])
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, name: str, every: float, run: Callable[[], object]) -> None:
        self.jobs.append(Job(name, every, run))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="onevoice-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for job in self.jobs:
                if now >= job.next_at:
                    job.next_at = now + job.every
                    try:
                        job.run()
                    except Exception:  # one failing job must not stop the others
                        log.exception("scheduled job %s failed", job.name)
            self._stop.wait(min((j.next_at for j in self.jobs), default=now + 1) - time.monotonic())
