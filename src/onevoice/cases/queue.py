"""Keep each team's queue entries (case_teams) in step with their case."""

from __future__ import annotations

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from onevoice.cases.models import Case, CaseTeam
from onevoice.db import executemany

# The case's columns its queue entries copy.
QUEUE_FIELDS = ("status", "priority", "last_message_at", "sla_due_at")


def queue_fields(case: Case) -> dict:
    return {name: getattr(case, name) for name in QUEUE_FIELDS}


def sync_queue(session: Session, cases: list, fields: tuple[str, ...] = QUEUE_FIELDS) -> None:
    """Copy these cases' `fields` to their queue entries. A caller that knows the other fields are in step already
    names only the changed ones: SQLite rewrites the entries of every index holding a column the statement
    sets, changed or not, and most of a worker's touches move only `last_message_at`, which one of the four
    indexes does not hold (bench/README.md, round 10)."""
    if not cases or not fields:
        return
    table = CaseTeam.__table__
    stmt = update(table).where(table.c.case_id == bindparam("cid")).values(
        **{name: bindparam("v_" + name) for name in fields})
    # Straight to the driver on SQLite (db.executemany): the worker calls this for every batch. Each set of
    # fields is its own statement (the plan is cached by the rows' keys).
    executemany(session, "cases.sync_queue", stmt, [
        {"cid": c.id, **{"v_" + name: getattr(c, name) for name in fields}} for c in cases])
