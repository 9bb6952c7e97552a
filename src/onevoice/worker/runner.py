"""The worker loop shared by the embedded thread and `onevoice worker` processes."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onevoice.messages.models import Message
from onevoice.ops import heap, metrics
from onevoice.pipeline.processor import Outcome, Processor

log = logging.getLogger(__name__)
# While gathering, how often the worker looks whether a full batch is waiting (a cheap journal read).
GATHER_POLL = 0.02
# The worker holds for its full bound only while it is busy (the share of wall time it spends processing,
# smoothed, above BUSY_ABOVE; back to the short hold below IDLE_BELOW): with time to spare, larger batches
# save CPU nobody needs and only make a message show later (at 200 deliveries/s, a quiet machine, the full
# 0.15 s hold doubled the accept-to-visible p99: 96-101 -> 181-182 ms).
BUSY_ABOVE, IDLE_BELOW = 0.4, 0.25


def accepted_ids(session_factory: sessionmaker[Session], limit: int, older_than=None,
                 share: tuple[int, int] = (0, 1)) -> list[int]:
    """The oldest accepted ids; `share` (index, count): only those whose `share_key` modulo count is index.

    Read in a read-only transaction (SQLite: a deferred BEGIN), never waiting for the write lock: a write session
    began with BEGIN IMMEDIATE and so waited, to list ids, behind the other worker's whole batch (~0.25 s) or the
    batched API's insert. What it lists may be taken meanwhile: the processor takes an id only while it is still
    accepted, inside its write transaction."""
    with session_factory() as session:
        session.connection(execution_options={"readonly": True})
        query = select(Message.id).where(Message.status == "accepted").order_by(Message.id).limit(limit)
        if older_than is not None:
            query = query.where(Message.received_at < older_than)
        index, count = share
        if count > 1:
            query = query.where(share_key(session) % count == index)
        return list(session.scalars(query))


def share_key(session: Session):
    """What splits the accepted messages between several workers (SQLite): their author's platform id
    (the sum of its last character's code and its length), so that one author's messages go to one worker.
    Each worker works out triage and routing before it takes the write lock (the look-ahead), from the
    author's count of earlier messages among other things; split by id, every batch the other worker wrote
    had moved the counts of most authors of this one's next batch (1,600 authors in the batched bench's 50,000
    messages), and their answers were worked out again under the lock."""
    if session.get_bind().dialect.name != "sqlite":
        return Message.id
    author = func.json_extract(Message.author, "$.external_id")
    return func.unicode(func.substr(author, -1)) + func.length(author)


def gather_wait(waiting: int, oldest: float | None, now: float, enough: int, hold_seconds: float) -> float:
    """How long to wait for more work before the next batch (0: take it now). Enough waiting, or nothing
    received to wait for: now. Otherwise until the oldest waiting delivery has been held `hold_seconds` since
    it was received, and never longer: that bound is what keeps the accept-to-visible latency."""
    if waiting >= enough or oldest is None:
        return 0.0
    return max(0.0, min(hold_seconds, oldest + hold_seconds - now))


def busy_hold(busy: float, was_long: bool) -> bool:
    """Whether to gather for the full hold, given the smoothed busy share and whether it did so last time
    (two thresholds, so that a worker near one does not switch at every batch)."""
    return busy >= BUSY_ABOVE or (was_long and busy >= IDLE_BELOW)


def record(outcome: Outcome, started: float) -> None:
    metrics.PROCESSED.inc(len(outcome.processed))
    metrics.FAILED.inc(len(outcome.failed))
    metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
    for seconds in outcome.latency:
        metrics.LATENCY.observe(seconds)


class EmbeddedWorker:
    """Drains `accepted` messages in a background thread; the database itself is the queue.

    Intake wakes it; a periodic look catches anything accepted while it slept or before a restart.
    A batch takes what is waiting, up to `batch_size`; while a backlog lasts (the last batch was full)
    the limit doubles up to `max_batch_size`, because each message costs less in a bigger batch (the
    lookups and statements are per batch), and falls back once the backlog is gone.
    """

    def __init__(self, processor: Processor, session_factory: sessionmaker[Session], publish,
                 batch_size: int = 200, idle_seconds: float = 1.0, max_batch_size: int | None = None,
                 ingest=None, linger_seconds: float = 0.0, share: tuple[int, int] = (0, 1),
                 on_ingested=None, freeze_after_warm_up: bool = False, waiting=None,
                 hold_seconds: float = 0.0, short_hold_seconds: float | None = None, spread=None) -> None:
        self.processor = processor
        # A process of its own (not a thread of a server or a test): once the first batch has loaded the
        # models, what it holds is frozen out of the garbage collector's passes (ops/heap.py).
        self._freeze = freeze_after_warm_up
        # Stores the intake journal's pending deliveries as messages first (Runtime.ingest), if there is one;
        # `on_ingested` is told when the other workers have work: this one stored journaled deliveries (their
        # shares among them) while they take shares, or the pool widened.
        self.ingest = ingest
        self.on_ingested = on_ingested
        # (index, count): this worker takes only the accepted ids whose share_key modulo count is index, so that
        # several workers on one SQLite database do not work out the same batch (worker/child.py).
        self.share = share
        # A pool whose width changes with the backlog (worker/spread.Spread): the share is (index, width) now,
        # and a worker beyond the width sleeps. None: the fixed `share`.
        self.spread = spread
        # Wait this long after a batch smaller than batch_size, to gather more (worker/child.py sets it).
        self.linger_seconds = linger_seconds
        # With an intake journal, `waiting(enough)` says (deliveries waiting, when the oldest new one came):
        # then, instead of the fixed linger, the worker gathers until a full batch waits or the oldest has
        # been held `hold_seconds` (gather_wait), so that a trickle is processed in batches whose fixed costs
        # (lookups, the surge detector, the statements) are shared by many, never holding one longer.
        self.waiting = waiting
        self.hold_seconds = hold_seconds
        # While the worker has time to spare it holds only this long (busy_hold); None: always the full hold.
        self.short_hold_seconds = hold_seconds if short_hold_seconds is None else min(short_hold_seconds,
                                                                                      hold_seconds)
        self._busy, self._long_hold, self._last_end = 0.0, False, None
        self.session_factory = session_factory
        self.publish = publish
        self.batch_size = batch_size
        self.max_batch_size = max(batch_size, max_batch_size or 5 * batch_size)
        self._limit = batch_size
        self.idle_seconds = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def enqueue(self, ids: list[int]) -> None:
        if ids:
            self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="onevoice-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    def run_once(self) -> Outcome:
        share = self.share if self.spread is None else self.spread.share()
        if share is None:  # a pool's further worker while the pool is narrow: the first takes everything
            return Outcome()
        if self.spread is not None:
            self.processor.shared(share[1] > 1)
        ingested = len(self.ingest(max(self._limit, 1000))) if self.ingest else 0
        if ingested and self.on_ingested is not None and share[1] > 1:
            self.on_ingested()
        limit = self._limit
        ids = accepted_ids(self.session_factory, limit, share=share)
        self._limit = min(limit * 2, self.max_batch_size) if len(ids) >= limit else self.batch_size
        if not ids:
            self._spread(0, limit)
            return Outcome(ingested=ingested)
        started = time.perf_counter()
        outcome = self.processor.process(ids)
        outcome.ingested = ingested
        record(outcome, started)
        # After the batch, not before: widened before, the others' first batches would be the oldest of their
        # shares, which this batch holds.
        self._spread(len(ids), limit)
        if self._freeze and outcome.processed:
            self._freeze = False
            heap.freeze()
        self.publish(outcome.live)
        return outcome

    def _spread(self, taken: int, limit: int) -> None:
        if self.spread is None:
            return
        widened = self.spread.after_batch(taken, limit, self.max_batch_size, self.batch_size,
                                          lambda: len(accepted_ids(self.session_factory, self.batch_size)))
        if widened and self.on_ingested is not None:
            self.on_ingested()

    def run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            self._wake.clear()
            try:
                started = time.monotonic()
                outcome = self.run_once()
                self._measure(started, time.monotonic(), outcome)
                backoff = 0.5
            except Exception:
                log.exception("worker batch failed; retrying in %.1fs", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30)
                continue
            if not outcome.processed and not outcome.failed and not outcome.ingested:
                self._wake.wait(self.idle_seconds)
                self._gather()
            elif len(outcome.processed) < self.batch_size:
                if self.waiting is not None:
                    self._gather()
                elif self.linger_seconds:
                    self._stop.wait(self.linger_seconds)

    def _measure(self, started: float, ended: float, outcome: Outcome) -> None:
        """The busy share: this batch's time over the time since the previous one ended, smoothed; an idle
        pass (nothing to do) counts as idle."""
        worked = bool(outcome.processed or outcome.failed or outcome.ingested)
        if self._last_end is not None:
            cycle = max(ended - self._last_end, 1e-6)
            sample = (ended - started) / cycle if worked else 0.0
            self._busy = 0.7 * self._busy + 0.3 * min(sample, 1.0)
        self._last_end = ended

    def hold(self) -> float:
        """The gathering bound now: the full hold while busy, the short one while there is time to spare."""
        self._long_hold = busy_hold(self._busy, self._long_hold)
        return self.hold_seconds if self._long_hold else self.short_hold_seconds

    def _gather(self) -> None:
        """Wait while gather_wait says so, looking again every GATHER_POLL seconds (a full batch may arrive)."""
        if self.waiting is None:
            return
        hold = self.hold()
        while not self._stop.is_set():
            try:
                count, oldest = self.waiting(self.batch_size)
            except Exception:  # the journal unreadable now: take the batch; run_once reports what is wrong
                log.exception("reading the intake journal's backlog failed")
                return
            wait = gather_wait(count, oldest, time.time(), self.batch_size, hold)
            if wait <= 0:
                return
            self._stop.wait(min(wait, GATHER_POLL))

    def drain(self, timeout: float = 60) -> None:
        """Process until nothing is accepted (tests, imports run without a server)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            outcome = self.run_once()
            if not outcome.processed and not outcome.failed and not outcome.ingested:
                return
