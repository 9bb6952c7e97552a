"""Replying on a case: collision check, approval when required, then the outbox."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.approvals import service as approvals
from onevoice.auth.principal import Principal
from onevoice.cases.access import actionable_case
from onevoice.cases.actions import record
from onevoice.errors import Conflict
from onevoice.messages.models import Message
from onevoice.outbox.service import draft_reply, enqueue


class ReplyCollision(Conflict):
    """Someone else replied after this person opened the case; they must confirm to send anyway."""

    def __init__(self, other: Message) -> None:
        # Plain values: the session (and the row) are gone by the time the edge reads this.
        self.by = (other.author or {}).get("name") or other.sent_by or "someone"
        self.text, self.at = other.text, other.created_at
        super().__init__(f"{self.by} replied while you were writing")


def newer_reply(session: Session, who: Principal, case_id: int, seen_message_id: int | None) -> Message | None:
    """A reply by someone else newer than what this person saw when they opened the case."""
    if seen_message_id is None:
        return None
    return session.scalar(select(Message).where(
        Message.case_id == case_id, Message.direction == "outbound", Message.id > seen_message_id,
        Message.sent_by != who.label).order_by(Message.id.desc()).limit(1))


def send_reply(session: Session, who: Principal, case_id: int, text: str, seen_message_id: int | None = None,
               confirm: bool = False, answer_id: int | None = None) -> tuple[dict, int | None]:
    """Queue a reply (or hold it for approval). Returns the live update and the outbox job id to wake."""
    case = actionable_case(session, who, case_id)
    if not confirm:
        other = newer_reply(session, who, case.id, seen_message_id)
        if other is not None:
            raise ReplyCollision(other)
    reason = approvals.needs_approval(case, text, who)
    message = draft_reply(session, case, text, who.label, status="pending_approval" if reason else "queued")
    message.author = {**message.author, "name": who.name}
    data = {"message_id": message.id, "answer_id": answer_id}
    if reason:
        approvals.request(session, case, message, who, reason)
        return record(session, case, who, "reply.awaiting_approval", {**data, "reason": reason}), None
    job = enqueue(session, message, who.label)
    return record(session, case, who, "reply.queued", data), job.id
