"""How far behind the pipeline is: what waits to be processed.

Work that can wait (the reports' upkeep, reports/upkeep.py) asks this before it runs, so that during a surge
the cores and SQLite's one write lock go to processing first. Registered at composition (cli/serving.py).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onevoice.messages.models import Message

# More waiting than the worker takes in two and a half of its ordinary batches (200; it takes up to 1,000 while
# a backlog lasts): it is not keeping up. Under ordinary traffic what waits is one gathering's worth (the worker
# gathers for up to 0.15 s: by that estimate, not measured, tens at ordinary rates and ~150-250 at 1,000-1,500
# webhook deliveries a second). Low enough that work that waited for the surge starts only as its last few
# hundred messages are processed, not while thousands still wait.
BEHIND_AT = 500


def waiting(session_factory: sessionmaker[Session], enough: int, journal=None) -> int:
    """Messages accepted and not yet processed, and verified webhook deliveries not yet stored as messages
    (the intake journal, if any), counted up to `enough` each: a walk of the status index, never a full count."""
    with session_factory() as session:
        accepted = select(Message.id).where(Message.status == "accepted").limit(enough).subquery()
        count = session.scalar(select(func.count()).select_from(accepted)) or 0
    if journal is not None:
        count += journal.waiting(enough)[0]
    return count


def behind(session_factory: sessionmaker[Session], journal=None, at: int | None = None) -> bool:
    """True while at least `at` (BEHIND_AT) messages wait: the worker is not keeping up."""
    at = at or BEHIND_AT
    return waiting(session_factory, at, journal) >= at
