"""Reading messages and retrying failed ones."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from onevoice.channels.models import Channel
from onevoice.errors import InvalidInput, NotFound
from onevoice.events.models import Event, shown
from onevoice.messages.models import STATUSES, Message, RoutingDecision
from onevoice.messages.schemas import MessageDetail, MessageEvent, MessageOut, MessagePage, RoutingOut


def count_by_status(session: Session, statuses: tuple[str, ...]) -> dict[str, int]:
    """How many messages are in each of `statuses` now (a status with none is left out)."""
    return dict(session.execute(select(Message.status, func.count()).where(Message.status.in_(statuses))
                                .group_by(Message.status)).all())


def get_message(session: Session, message_id: int) -> MessageDetail:
    m = session.get(Message, message_id)
    if m is None:
        raise NotFound(f"no message with id {message_id}")
    decision = session.scalar(select(RoutingDecision).where(RoutingDecision.message_id == m.id))
    events = session.scalars(select(Event).where(Event.message_id == m.id).order_by(Event.id))
    out = MessageDetail.of(m, session.scalar(select(Channel.key).where(Channel.id == m.channel_id)))
    out.routing = None if decision is None else RoutingOut.model_validate(decision)
    out.events = [MessageEvent(kind=e.kind, actor=e.actor, data=shown(e.data), at=e.created_at) for e in events]
    return out


def list_messages(session: Session, status: str | None = None, cursor: int | None = None,
                  limit: int = 50) -> MessagePage:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    limit = max(1, min(limit, 500))
    query = select(Message, Channel.key).join(Channel, Channel.id == Message.channel_id)
    if status:
        query = query.where(Message.status == status)
    if cursor:
        query = query.where(Message.id < cursor)
    rows = session.execute(query.order_by(Message.id.desc()).limit(limit + 1)).all()
    items = [MessageOut.of(m, key) for m, key in rows[:limit]]
    return MessagePage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)


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
