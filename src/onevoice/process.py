"""What one OneVoice process holds (the kernel's view of it): settings, database, broker, queue, processor.

Every layer may take a `Runtime` (routes get it from `web.deps.get_runtime`); none builds one. The parts
that live in higher layers (the pipeline's processor, the Redis queue) are made by factories that the
composition root (`runtime.build_runtime`) hands in, so this module imports nothing above the kernel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onevoice.settings import Settings

if TYPE_CHECKING:  # an annotation only: the anchor is made by the composition root
    from onevoice.audit.anchor import Anchor


class Broker(Protocol):
    """Live events to the pages: `live.broker.LocalBroker` in one process, `RedisBroker` across nodes."""

    def publish(self, events: list[dict]) -> None: ...

    def subscribe(self) -> AsyncIterator[dict]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Processor(Protocol):
    """What the edges use of the pipeline's `pipeline.processor.Processor`: a batch of accepted ids processed,
    and its triager (a dry run of a playbook, `POST /api/v1/classify`)."""

    triager: Any  # a triage.types.Triager (judgment sits above the kernel)

    def process(self, ids: list[int]) -> Any: ...


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    read_factory: sessionmaker[Session]
    broker: Broker
    # The audit log's key and checkpoint file (audit/anchor.py); every session of both factories has it.
    anchor: Anchor
    processor_factory: Callable[[], Processor] = field(repr=False)
    queue_factory: Callable[[], Any] = field(repr=False)
    _processor: Processor | None = field(default=None, repr=False)
    _queue: object | None = field(default=None, repr=False)
    worker: object | None = field(default=None, repr=False)
    # The intake journal (pipeline/journal.py) and the step that stores its deliveries as messages
    # (pipeline/ingest.py), handed in by the composition root; a factory may answer None (no journal).
    journal_factory: Callable[[], Any] | None = field(default=None, repr=False)
    ingest_step: Callable[[Any, int], list[int]] | None = field(default=None, repr=False)
    _journal: Any = field(default=None, repr=False)
    _journal_checked: bool = field(default=False, repr=False)

    @property
    def journal(self):
        """The intake journal on SQLite without Redis, else None (deliveries are stored in the request)."""
        if not self._journal_checked:
            self._journal = self.journal_factory() if self.journal_factory else None
            if self._journal is not None:
                self._journal.on_append = self.wake_worker
            self._journal_checked = True
        return self._journal

    def ingest(self, limit: int = 1000) -> list[int]:
        """Store journaled deliveries as messages (the embedded worker calls this before each batch)."""
        if self.journal is None or self.ingest_step is None:
            return []
        return self.ingest_step(self, limit)

    def wake_worker(self) -> None:
        if self.worker is not None:
            self.worker.enqueue([1])

    @property
    def processor(self) -> Processor:
        if self._processor is None:
            self._processor = self.processor_factory()
        return self._processor

    @property
    def queue(self):
        """Where the edge enqueues accepted ids after commit: Redis Streams, or the embedded worker."""
        if self._queue is None:
            self._queue = self.queue_factory()
        return self._queue

    def dispose(self) -> None:
        if self._journal is not None:
            self._journal.close()
        self.engine.dispose()


class NullQueue:
    """Without Redis the database is the queue; an embedded worker, if any, is woken separately."""

    def enqueue(self, ids: list[int]) -> None:
        return None
