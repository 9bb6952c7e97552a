"""What a queue row shows: customer, channel, latest message, triage labels, teams, assignee, SLA.

A page of rows costs a fixed handful of queries whatever its length (no query per row).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onevoice.approvals.models import Approval
from onevoice.auth.models import User
from onevoice.cases.models import Case
from onevoice.cases.service import case_summaries
from onevoice.contacts.names import author_view
from onevoice.inbox.schemas import LatestMessage, QueueRow
from onevoice.messages.models import Message


def case_rows(session: Session, case_ids: list[int]) -> list[QueueRow]:
    """Rows for these cases, in the order given."""
    if not case_ids:
        return []
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))}
    latest_ids = select(func.max(Message.id)).where(Message.case_id.in_(case_ids)).group_by(Message.case_id)
    latest = {m.case_id: m for m in session.scalars(select(Message).where(Message.id.in_(latest_ids)))}
    assignees = {c.assignee_id for c in cases.values() if c.assignee_id}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(assignees))).all()) if assignees else {}
    waiting = set(session.scalars(select(Approval.case_id).where(Approval.case_id.in_(case_ids),
                                                                  Approval.status == "pending")))

    def more(case: Case) -> dict:
        """What a row shows beside the case's summary (QueueRow's own fields)."""
        m = latest.get(case.id)
        triage = (m.triage or {}) if m is not None else {}
        return {"latest": None if m is None else LatestMessage(
                    id=m.id, text=m.text, direction=m.direction, status=m.status,
                    author=author_view(m.author)["display_name"], at=m.created_at, language=m.language,
                    urgency=triage.get("urgency")),
                "assignee_id": case.assignee_id, "assignee": names.get(case.assignee_id),
                "incident_id": case.incident_id, "waiting_approval": case.id in waiting,
                "sla_due": case.sla_due_at, "last_at": case.last_message_at}

    return case_summaries(session, [cases[i] for i in case_ids if i in cases], QueueRow, more)
