"""Cases waiting on the customer do not wait forever: with no activity for a number of days they are resolved.

A responder sets "Pending customer" when the next move is the customer's (a question asked, a fix to try).
Support desks resolve such cases once the customer has been silent for a while; without it they stay in
every backlog figure and queue for months (the reports' backlog counted ~70,000 at full size). The customer's
next message opens a new case, as after any resolution; a message before the deadline moves the case back
to open (pipeline/thread.py), and any activity on the case (a note, a reply) restarts the count because it
moves the case's `updated_at`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.principal import SYSTEM
from onevoice.cases.actions import record
from onevoice.cases.models import Case
from onevoice.db import unit_of_work, utcnow

BATCH = 500  # a run resolves at most this many (the next run takes the rest): short write transactions


def resolve_silent(session: Session, now: datetime, days: float) -> list[dict]:
    """Resolve the cases pending on the customer with nothing done for `days`; returns their live updates."""
    cutoff = now - timedelta(days=days)
    # Row-locked, skipping what another node is resolving (PostgreSQL; SQLite has one writer): each case once.
    cases = session.scalars(select(Case).where(Case.status == "pending_customer", Case.updated_at < cutoff)
                            .order_by(Case.updated_at).limit(BATCH).with_for_update(skip_locked=True)).all()
    reason = f"no answer from the customer in {days:g} days"
    live = []
    for case in cases:
        case.status, case.resolved_at = "resolved", now
        live.append(record(session, case, SYSTEM, "case.status",
                           {"from": "pending_customer", "to": "resolved", "reason": reason}))
    return live


def resolve_silent_job(session_factory, publish, days: float) -> int:
    """The scheduler's job (0 days: never)."""
    if days <= 0:
        return 0
    with unit_of_work(session_factory) as session:
        live = resolve_silent(session, utcnow(), days)
    if live:
        publish(live)
    return len(live)
