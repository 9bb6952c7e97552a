"""What one OneVoice process holds (the kernel's view of it): settings, database, broker, queue, processor.

Every layer may take a `Runtime` (routes get it from `web.deps.get_runtime`); none builds one. The parts
that live in higher layers (the pipeline's processor, the Redis queue) are made by factories that the
composition root (`runtime.build_runtime`) hands in, so this module imports nothing above the kernel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onevoice.settings import Settings

if TYPE_CHECKING:  # annotations only: the classes come from the layers above, through the factories
    from onevoice.audit.anchor import Anchor
    from onevoice.live.broker import LocalBroker
    from onevoice.pipeline.processor import Processor


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    read_factory: sessionmaker[Session]
    broker: LocalBroker
    # The audit log's key and checkpoint file (audit/anchor.py); every session of both factories has it.
    anchor: Anchor
    processor_factory: Callable[[], Processor] = field(repr=False)
    queue_factory: Callable[[], Any] = field(repr=False)
    _processor: Processor | None = field(default=None, repr=False)
    _queue: object | None = field(default=None, repr=False)
    worker: object | None = field(default=None, repr=False)

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
        self.engine.dispose()


class NullQueue:
    """Without Redis the database is the queue; an embedded worker, if any, is woken separately."""

    def enqueue(self, ids: list[int]) -> None:
        return None
