"""The composition root of a process: builds its Runtime from Settings (never at import time)."""

from __future__ import annotations

import logging

import onevoice.models  # noqa: F401  (every table, so foreign keys resolve in any process)
from onevoice import egress
from onevoice.advocacy.voice import claim_employee_voice
from onevoice.audit.anchor import anchor_from_settings, session_info
from onevoice.db import make_engine, make_sessionmaker
from onevoice.incidents.surge import detect_surges
from onevoice.live.broker import make_broker
from onevoice.pipeline import stages
from onevoice.pipeline.ingest import ingest
from onevoice.pipeline.journal import IntakeJournal, journal_path
from onevoice.pipeline.processor import Processor
from onevoice.process import NullQueue, Runtime
from onevoice.settings import Settings

log = logging.getLogger(__name__)


def configure_egress(settings: Settings) -> None:
    """The outbound guard's policy for this process (connectors read it, they never see Settings)."""
    egress.configure(settings.outbound_allow_networks, settings.media_hosts)


def build_processor(settings: Settings, session_factory, worker: str = "embedded") -> Processor:
    # Employee voice (advocacy) claims its employees' own public posts before triage: handed to the pipeline
    # here, at composition, so the pipeline never imports a feature above it.
    return Processor(session_factory, stages.build_triager(settings), stages.build_router(settings, session_factory),
                     worker=worker, surge=detect_surges, claim=claim_employee_voice)


def build_runtime(settings: Settings) -> Runtime:
    configure_egress(settings)
    # Read first: a configured audit key that cannot be used stops the process before it writes anything.
    anchor = anchor_from_settings(settings)
    info = session_info(anchor)
    engine = make_engine(settings.database_url)
    session_factory = make_sessionmaker(engine, info=info)
    return Runtime(settings=settings, engine=engine, session_factory=session_factory,
                   read_factory=make_sessionmaker(engine, readonly=True, info=info),
                   broker=make_broker(settings.redis_url, settings.redis_prefix), anchor=anchor,
                   processor_factory=lambda: build_processor(settings, session_factory),
                   queue_factory=lambda: build_queue(settings),
                   journal_factory=lambda: build_journal(settings), ingest_step=ingest_step)


def build_journal(settings: Settings):
    """The intake journal beside a SQLite database file, when there is no Redis (pipeline/journal.py)."""
    path = journal_path(settings.database_url)
    if path and settings.intake_journal and not settings.redis_url:
        return IntakeJournal(path)
    return None


def ingest_step(runtime: Runtime, limit: int) -> list[int]:
    return ingest(runtime.journal, runtime.session_factory, runtime.settings.secret_key.get_secret_value(),
                  runtime.settings.max_text_chars, limit)


def build_queue(settings: Settings):
    """Where the edge enqueues accepted ids after commit: Redis Streams, or the embedded worker."""
    if settings.redis_url:
        # Optional: imported only when configured, so a process without Redis never loads its client.
        from onevoice.worker.streams import StreamQueue

        return StreamQueue(settings.redis_url, settings.redis_prefix)
    return NullQueue()
