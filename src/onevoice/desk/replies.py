"""Replying on a case: collision check, the policy guard and risk-based approval, then the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.approvals import service as approvals
from onevoice.auth.principal import Principal
from onevoice.cases.access import actionable_case
from onevoice.cases.actions import record
from onevoice.errors import Conflict, InvalidInput, NotFound
from onevoice.governance.approval_rules import apply_requirement
from onevoice.governance.guard import Finding
from onevoice.governance.review import review_outgoing
from onevoice.inbox.notify import notify_team
from onevoice.messages.models import Message
from onevoice.outbox.service import draft_reply, enqueue, retry


class ReplyCollision(Conflict):
    """Someone else replied after this person opened the case; they must confirm to send anyway."""

    def __init__(self, other: Message) -> None:
        # Plain values: the session (and the row) are gone by the time the edge reads this.
        self.by = (other.author or {}).get("name") or other.sent_by or "someone"
        self.text, self.at = other.text, other.created_at
        super().__init__(f"{self.by} replied while you were writing")


class ReplyBlocked(InvalidInput):
    """The policy guard refused the text: nothing is sent or held. Carries the findings (what and where)."""

    def __init__(self, text: str, findings: list[Finding]) -> None:
        self.text, self.findings = text, findings
        super().__init__("not sent: " + "; ".join(f.message for f in findings if f.severity == "block"))


@dataclass
class ReplyOutcome:
    """What happened to a reply: the live update, the outbox job to wake (None when held), the guard's
    warnings and, when held, the approval request."""

    live: dict
    job_id: int | None
    warnings: list[Finding] = field(default_factory=list)
    approval_id: int | None = None

    def __iter__(self):  # `live, job_id = send_reply(...)` keeps working
        return iter((self.live, self.job_id))


def newer_reply(session: Session, who: Principal, case_id: int, seen_message_id: int | None) -> Message | None:
    """A reply by someone else newer than what this person saw when they opened the case."""
    if seen_message_id is None:
        return None
    return session.scalar(select(Message).where(
        Message.case_id == case_id, Message.direction == "outbound", Message.id > seen_message_id,
        Message.sent_by != who.label).order_by(Message.id.desc()).limit(1))


def send_reply(session: Session, who: Principal, case_id: int, text: str, seen_message_id: int | None = None,
               confirm: bool = False, answer_id: int | None = None) -> ReplyOutcome:
    """Queue a reply, hold it for approval, or refuse it, as the policy guard and the approval rules decide."""
    case = actionable_case(session, who, case_id)
    if not confirm:
        other = newer_reply(session, who, case.id, seen_message_id)
        if other is not None:
            raise ReplyCollision(other)
    text = (text or "").strip()
    if not text:
        raise InvalidInput("a reply needs some text")
    verdict = review_outgoing(session, who, text, case=case)
    if verdict.blocked:
        raise ReplyBlocked(text, verdict.guard.findings)
    held = verdict.approval
    message = draft_reply(session, case, text, who.label, status="pending_approval" if held else "queued")
    message.author = {**message.author, "name": who.name}
    warnings = verdict.warnings
    data = {"message_id": message.id, "answer_id": answer_id}
    if warnings:
        data["warnings"] = [f.message for f in warnings]
    if held:
        approval = approvals.request(session, case, message, who, held.reason)
        apply_requirement(approval, held)
        session.flush()
        data.update(reason=held.reason, approver_team=held.team_key, due_at=held.due_at.isoformat())
        if held.team_id is not None:
            notify_team(session, held.team_id, case.id, "approval", who.label,
                        f"A reply by {who.name} waits for your approval: {held.reason}")
        live = record(session, case, who, "reply.awaiting_approval", data)
        return ReplyOutcome(live, None, warnings, approval.id)
    job = enqueue(session, message, who.label)
    return ReplyOutcome(record(session, case, who, "reply.queued", data), job.id, warnings)


def retry_reply(session: Session, who: Principal, case_id: int, message_id: int) -> dict:
    """Send a failed reply of this case again (the retry button). The message must be an outbound message of
    this very case: a post (no case) or another team's reply is reached through its own case or post, where
    their rules apply. Missing, not a reply, or on another case: one answer, so ids cannot be probed."""
    case = actionable_case(session, who, case_id)
    message = session.get(Message, message_id)
    if message is None or message.case_id != case.id or message.direction != "outbound":
        raise NotFound(f"no reply {message_id} on case {case_id}")
    retry(session, message.id)
    return record(session, case, who, "reply.retried", {"message_id": message.id})
