"""Everything one OneVoice process needs, built from Settings (never at import time)."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import onevoice.models  # noqa: F401  (every table, so foreign keys resolve in any process)
from onevoice.db import make_engine, make_sessionmaker
from onevoice.governance.anchor import Anchor, anchor_from_settings, session_info
from onevoice.live.broker import LocalBroker, make_broker
from onevoice.pipeline import stages
from onevoice.pipeline.processor import Processor
from onevoice.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    read_factory: sessionmaker[Session]
    broker: LocalBroker
    # The audit log's key and checkpoint file (governance/anchor.py); every session of both factories has it.
    anchor: Anchor = field(default_factory=Anchor)
    _processor: Processor | None = field(default=None, repr=False)
    _queue: object | None = field(default=None, repr=False)
    worker: object | None = field(default=None, repr=False)
    _journal: object | None = field(default=None, repr=False)
    _journal_checked: bool = field(default=False, repr=False)

    def wake_worker(self) -> None:
        if self.worker is not None:
            self.worker.enqueue([1])

    @property
    def journal(self):
        """The intake journal (channels/journal.py) on SQLite without Redis, else None (deliveries are stored
        in the request)."""
        if not self._journal_checked:
            from onevoice.channels.journal import IntakeJournal, journal_path

            path = journal_path(self.settings.database_url)
            if path and self.settings.intake_journal and not self.settings.redis_url:
                self._journal = IntakeJournal(path)
                self._journal.on_append = self.wake_worker
            self._journal_checked = True
        return self._journal

    def ingest(self, limit: int = 1000) -> list[int]:
        """Store journaled deliveries as messages (the worker calls this before each batch)."""
        if self.journal is None:
            return []
        from onevoice.channels.ingest import ingest

        return ingest(self.journal, self.session_factory, self.settings.secret_key.get_secret_value(),
                      self.settings.max_text_chars, limit)

    @property
    def processor(self) -> Processor:
        if self._processor is None:
            self._processor = build_processor(self.settings, self.session_factory)
        return self._processor

    @property
    def queue(self):
        """Where the edge enqueues accepted ids after commit: Redis Streams, or the embedded worker."""
        if self._queue is None:
            if self.settings.redis_url:
                from onevoice.worker.streams import StreamQueue

                self._queue = StreamQueue(self.settings.redis_url, self.settings.redis_prefix)
            else:
                self._queue = NullQueue()
        return self._queue

    def dispose(self) -> None:
        if self._journal is not None:
            self._journal.close()
        self.engine.dispose()


class NullQueue:
    """Without Redis the database is the queue; an embedded worker, if any, is woken separately."""

    def enqueue(self, ids: list[int]) -> None:
        return None


def configure_egress(settings: Settings) -> None:
    """The outbound guard's policy for this process (connectors read it, they never see Settings)."""
    from onevoice import egress

    egress.configure(settings.outbound_allow_networks, settings.media_hosts)


def build_processor(settings: Settings, session_factory, worker: str = "embedded") -> Processor:
    surge = None
    try:
        surge = importlib.import_module("onevoice.pipeline.incidents").detect_surges
    except (ModuleNotFoundError, AttributeError):
        surge = None
    return Processor(session_factory, stages.build_triager(settings), stages.build_router(settings, session_factory),
                     worker=worker, surge=surge)


def build_runtime(settings: Settings) -> Runtime:
    configure_egress(settings)
    # Read first: a configured audit key that cannot be used stops the process before it writes anything.
    anchor = anchor_from_settings(settings)
    info = session_info(anchor)
    engine = make_engine(settings.database_url)
    return Runtime(settings=settings, engine=engine, session_factory=make_sessionmaker(engine, info=info),
                   read_factory=make_sessionmaker(engine, readonly=True, info=info),
                   broker=make_broker(settings.redis_url, settings.redis_prefix), anchor=anchor)
