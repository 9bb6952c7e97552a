"""Keep each team's queue entries (case_teams) in step with their case."""

from __future__ import annotations

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from onevoice.cases.models import Case, CaseTeam
from onevoice.db import executemany


def queue_fields(case: Case) -> dict:
    return {"status": case.status, "priority": case.priority, "last_message_at": case.last_message_at,
            "sla_due_at": case.sla_due_at}


def sync_queue(session: Session, cases: list[Case]) -> None:
    if not cases:
        return
    table = CaseTeam.__table__
    stmt = (
        update(table).where(table.c.case_id == bindparam("cid"))
        .values(status=bindparam("s"), priority=bindparam("p"), last_message_at=bindparam("l"),
                sla_due_at=bindparam("d"))
    )
    # Straight to the driver on SQLite (db.executemany): the worker calls this for every batch.
    executemany(session, "cases.sync_queue", stmt, [
        {"cid": c.id, "s": c.status, "p": c.priority, "l": c.last_message_at, "d": c.sla_due_at} for c in cases
    ])
