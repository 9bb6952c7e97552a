"""Reading messages and retrying failed ones."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from onevoice.channels.models import Channel
from onevoice.contacts.names import author_view
from onevoice.errors import InvalidInput, NotFound
from onevoice.events.models import Event
from onevoice.messages.models import STATUSES, Message, RoutingDecision


def message_dict(m: Message, channel_key: str | None = None) -> dict:
    return {
        "id": m.id, "channel": channel_key, "external_id": m.external_id, "direction": m.direction,
        "kind": m.kind, "text": m.text, "author": author_view(m.author), "in_reply_to": m.in_reply_to, "url": m.url,
        "created_at": m.created_at.isoformat(), "received_at": m.received_at.isoformat(),
        "status": m.status, "attempts": m.attempts, "error": m.error,
        "processed_at": m.processed_at.isoformat() if m.processed_at else None,
        "language": m.language, "triage": m.triage, "contact_id": m.contact_id,
        "conversation_id": m.conversation_id, "case_id": m.case_id, "attachments": m.attachments or [],
        "edited_at": m.edited_at.isoformat() if m.edited_at else None,
        "deleted_at": m.deleted_at.isoformat() if m.deleted_at else None,
    }


def count_by_status(session: Session, statuses: tuple[str, ...]) -> dict[str, int]:
    """How many messages are in each of `statuses` now (a status with none is left out)."""
    return dict(session.execute(select(Message.status, func.count()).where(Message.status.in_(statuses))
                                .group_by(Message.status)).all())


def get_message(session: Session, message_id: int) -> dict:
    m = session.get(Message, message_id)
    if m is None:
        raise NotFound(f"no message with id {message_id}")
    out = message_dict(m, session.scalar(select(Channel.key).where(Channel.id == m.channel_id)))
    out["raw"] = m.raw
    decision = session.scalar(select(RoutingDecision).where(RoutingDecision.message_id == m.id))
    out["routing"] = None if decision is None else {
        "lead_team": decision.lead_team, "collaborators": decision.collaborators, "priority": decision.priority,
        "sla_policy": decision.sla_policy, "tags": decision.tags, "requires_approval": decision.requires_approval,
        "close_as_spam": decision.close_as_spam, "rules": decision.rules, "reason": decision.reason,
    }
    out["events"] = [
        {"kind": e.kind, "actor": e.actor, "data": e.data, "at": e.created_at.isoformat()}
        for e in session.scalars(select(Event).where(Event.message_id == m.id).order_by(Event.id))
    ]
    return out


def list_messages(session: Session, status: str | None = None, cursor: int | None = None,
                  limit: int = 50) -> dict:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    limit = max(1, min(limit, 500))
    query = select(Message, Channel.key).join(Channel, Channel.id == Message.channel_id)
    if status:
        query = query.where(Message.status == status)
    if cursor:
        query = query.where(Message.id < cursor)
    rows = session.execute(query.order_by(Message.id.desc()).limit(limit + 1)).all()
    items = [message_dict(m, key) for m, key in rows[:limit]]
    return {"items": items, "next_cursor": str(items[-1]["id"]) if len(rows) > limit else None}


def retry_failed(session: Session, ids: list[int] | None = None) -> list[int]:
    """Put failed inbound messages back in the queue; the caller enqueues the returned ids after commit.

    Outbound replies and posts that failed are retried through the outbox (their own retry), never re-processed
    by the inbound pipeline."""
    query = select(Message.id).where(Message.status == "failed", Message.direction == "inbound")
    if ids:
        query = query.where(Message.id.in_(ids))
    found = list(session.scalars(query))
    if found:
        session.execute(update(Message).where(Message.id.in_(found)).values(status="accepted", error=None))
        session.execute(Event.__table__.insert(), [
            {"kind": "message.retried", "message_id": mid, "actor": "operator", "data": {}} for mid in found
        ])
    return found
