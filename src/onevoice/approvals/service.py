"""Approvals: a reply that must be signed off waits here; approving queues it for sending.

Governance extends this with rules that decide who approves what, approval SLAs and escalation.
`needs_approval` is the seam: today it follows the case's `requires_approval` flag (set by the playbook).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.approvals.models import Approval
from onevoice.auth.principal import Principal
from onevoice.cases.access import visible_case
from onevoice.cases.models import Case
from onevoice.db import utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.messages.models import Message
from onevoice.outbox.models import OutboxJob
from onevoice.outbox.service import enqueue
from onevoice.teams.models import Team

APPROVERS = frozenset({"admin", "coordinator", "manager"})
APPROVER_TEAMS = ("legal", "pr")


def needs_approval(case: Case, text: str, who: Principal) -> str | None:
    """Why this text needs sign-off, or None to send it straight away."""
    if case.requires_approval:
        return "the playbook requires approval for this case"
    return None


def may_approve(session: Session, who: Principal) -> bool:
    if who.role in APPROVERS:
        return True
    teams = set(session.scalars(select(Team.id).where(Team.key.in_(APPROVER_TEAMS))))
    return bool(teams & set(who.team_ids))


def request(session: Session, case: Case, message: Message, who: Principal, reason: str) -> Approval:
    approval = Approval(case_id=case.id, message_id=message.id, reason=reason, requested_by=who.label)
    session.add(approval)
    session.flush()
    return approval


def decide(session: Session, who: Principal, approval_id: int, approve: bool, note: str = "") -> Approval:
    approval = session.get(Approval, approval_id)
    if approval is None:
        raise NotFound(f"no approval {approval_id}")
    if approval.case_id is not None:
        visible_case(session, who, approval.case_id)
    if not may_approve(session, who):
        raise Forbidden("approvals are decided by Legal, PR, managers, coordinators and admins")
    if approval.status != "pending":
        raise InvalidInput(f"this approval was already {approval.status}")
    approval.status = "approved" if approve else "rejected"
    approval.decided_by, approval.decided_at, approval.decision_note = who.label, utcnow(), note or None
    message = session.get(Message, approval.message_id)
    if approve:
        enqueue(session, message, approval.requested_by)
    else:
        message.status, message.error = "rejected", f"rejected by {who.name}" + (f": {note}" if note else "")
    session.flush()
    return approval


def pending_for_case(session: Session, case_id: int) -> dict[int, Approval]:
    """Approvals by outbound message id for one case."""
    rows = session.scalars(select(Approval).where(Approval.case_id == case_id))
    return {a.message_id: a for a in rows}


def delivery_for_case(session: Session, case_id: int) -> dict[int, OutboxJob]:
    return {j.message_id: j for j in session.scalars(select(OutboxJob).where(OutboxJob.case_id == case_id))}
