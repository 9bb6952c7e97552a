"""Scale-out queue: Redis Streams with one consumer group shared by every worker process.

At-least-once: an entry is acknowledged only after its transaction committed. Entries left pending by
a worker that died are reclaimed (XAUTOCLAIM) once idle long enough. A sweeper re-enqueues messages
that were committed but never enqueued (a crash between the two). Processing is idempotent, so a
message delivered twice changes nothing the second time.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta

import redis
from sqlalchemy.orm import Session, sessionmaker

from onevoice.db import utcnow
from onevoice.pipeline.processor import Processor
from onevoice.worker.runner import accepted_ids, record

log = logging.getLogger(__name__)
GROUP = "workers"


def stream_key(prefix: str) -> str:
    return f"{prefix}:messages"


class StreamQueue:
    """The producer side, used by web nodes after they commit accepted messages."""

    def __init__(self, redis_url: str, prefix: str = "onevoice", maxlen: int = 2_000_000) -> None:
        self.redis = redis.Redis.from_url(redis_url)
        self.stream = stream_key(prefix)
        self.maxlen = maxlen
        try:
            self.ensure_group()
        except redis.RedisError as exc:
            # A web node that starts (or first enqueues) while Redis is down must still acknowledge what it
            # stored: the workers create the group when Redis is back, and their sweeper enqueues the rest.
            log.warning("Redis unreachable (%s): the stream's group is created by the workers later", exc)

    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def enqueue(self, ids: list[int]) -> None:
        if not ids:
            return
        try:
            pipe = self.redis.pipeline(transaction=False)
            for mid in ids:
                pipe.xadd(self.stream, {"id": mid}, maxlen=self.maxlen, approximate=True)
            pipe.execute()
        except redis.RedisError as exc:
            # The messages are committed; the sweeper will enqueue them once Redis is back.
            log.warning("enqueue of %d messages failed (%s); the sweeper will retry", len(ids), exc)

    def depth(self) -> int:
        try:
            info = self.redis.xinfo_groups(self.stream)
            return sum(int(g.get("lag") or 0) + int(g.get("pending") or 0) for g in info)
        except redis.RedisError:
            return -1


class StreamWorker:
    def __init__(self, processor: Processor, session_factory: sessionmaker[Session], redis_url: str,
                 publish, batch_size: int = 200, reclaim_idle_ms: int = 30_000,
                 requeue_after_seconds: float = 30.0, name: str | None = None, prefix: str = "onevoice") -> None:
        self.processor = processor
        self.session_factory = session_factory
        self.queue = StreamQueue(redis_url, prefix)
        self.stream = self.queue.stream
        self.sweep_lock = f"{prefix}:sweeper"
        self.redis = self.queue.redis
        self.publish = publish
        self.batch_size = batch_size
        self.reclaim_idle_ms = reclaim_idle_ms
        self.requeue_after = requeue_after_seconds
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self._stop = threading.Event()
        self._last_sweep = 0.0
        # Extra work every second or so (channel polling, under a per-channel Redis lock).
        self.periodic = None
        self._last_periodic = 0.0

    def stop(self) -> None:
        self._stop.set()

    def _claim(self) -> list[tuple[bytes, dict]]:
        _next, entries, *_ = self.redis.xautoclaim(self.stream, GROUP, self.name, self.reclaim_idle_ms,
                                                    start_id="0-0", count=self.batch_size)
        if entries:
            log.info("reclaimed %d stale deliveries", len(entries))
            return entries
        reply = self.redis.xreadgroup(GROUP, self.name, {self.stream: ">"}, count=self.batch_size, block=1000)
        return reply[0][1] if reply else []

    def run_once(self) -> int:
        entries = [(eid, fields) for eid, fields in self._claim() if fields]
        if not entries:
            return 0
        ids = sorted({int(fields[b"id"]) for _eid, fields in entries})
        started = time.perf_counter()
        outcome = self.processor.process(ids)
        # Acknowledge only after the commit inside process(): a crash before this line redelivers.
        self.redis.xack(self.stream, GROUP, *[eid for eid, _ in entries])
        record(outcome, started)
        self.publish(outcome.live)
        return len(entries)

    def sweep(self) -> int:
        """Re-enqueue messages accepted long ago and still waiting; one worker at a time does it."""
        if not self.redis.set(self.sweep_lock, self.name, nx=True, ex=max(1, int(self.requeue_after))):
            return 0
        cutoff = utcnow() - timedelta(seconds=self.requeue_after)
        ids = accepted_ids(self.session_factory, 10_000, older_than=cutoff)
        self.queue.enqueue(ids)
        return len(ids)

    def run(self) -> None:
        log.info("worker %s consuming %s/%s", self.name, self.stream, GROUP)
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self._step()
                backoff = 0.5
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    log.exception("worker loop error; retrying in %.1fs", backoff)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, 30)
                    continue
                # Redis lost the stream (restarted without persistence): recreate it; the sweeper
                # re-enqueues whatever is still waiting in the database.
                log.warning("stream %s or its group is gone; recreating it", self.stream)
                self.queue.ensure_group()
                self._last_sweep = 0.0
            except Exception:
                log.exception("worker loop error; retrying in %.1fs", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30)

    def _step(self) -> None:
        if time.monotonic() - self._last_sweep > max(1.0, self.requeue_after / 2):
            self._last_sweep = time.monotonic()
            self.sweep()
        if self.periodic is not None and time.monotonic() - self._last_periodic > 1.0:
            self._last_periodic = time.monotonic()
            self.periodic()
        self.run_once()
