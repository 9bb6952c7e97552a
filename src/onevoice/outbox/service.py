"""Queue an outgoing reply: an outbound Message row (shown in the conversation at once) and a durable job.

The edge commits, then wakes the sender; anything not delivered now is retried by the periodic sender.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.db import utcnow
from onevoice.errors import InvalidInput, NotFound
from onevoice.messages.models import Message
from onevoice.outbox.models import OutboxJob

# Characters per reply on each platform (Bluesky counts graphemes; close enough for the counter).
LENGTH_LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500, "meta": 8000, "reddit": 10000, "email": 100_000,
                 "webhook": 10_000, "sandbox": 500}


def length_limit(kind: str | None) -> int | None:
    return LENGTH_LIMITS.get(kind or "")


def reply_parent(session: Session, case_id: int) -> Message | None:
    """The message a reply answers: the customer's latest inbound message on the case."""
    return session.scalar(select(Message).where(Message.case_id == case_id, Message.direction == "inbound")
                          .order_by(Message.id.desc()).limit(1))


def draft_reply(session: Session, case: Case, text: str, author: str, status: str = "queued") -> Message:
    """The outbound message row (status queued, or held for approval)."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("a reply needs some text")
    parent = reply_parent(session, case.id)
    if parent is None:
        raise InvalidInput("this case has no inbound message to reply to")
    channel = session.get(Channel, parent.channel_id)
    limit = length_limit(channel.kind if channel else None)
    if limit and len(text) > limit:
        raise InvalidInput(f"{channel.kind} allows {limit} characters; this reply has {len(text)}")
    now = utcnow()
    message = Message(channel_id=parent.channel_id, external_id=f"outbound:{uuid.uuid4().hex}",
                      direction="outbound", kind=parent.kind, text=text,
                      author={"external_id": "organization", "handle": channel.name if channel else None,
                              "name": author},
                      in_reply_to=parent.external_id, created_at=now, received_at=now, status=status,
                      conversation_id=parent.conversation_id, case_id=case.id, sent_by=author)
    session.add(message)
    session.flush()
    return message


def enqueue(session: Session, message: Message, author: str, kind: str = "reply", payload: dict | None = None,
            due_at=None) -> OutboxJob:
    """A delivery job for an outbound message (idempotent per message and kind).

    kind "reply" answers the message's parent, "post" publishes it (`payload.media`), "delete" removes what it
    put on the platform (`payload.external_id`). The idempotency key is fixed here, once: every retry of the job
    sends the same key, so the platform (or the connector) can refuse a second copy.
    """
    existing = session.scalar(select(OutboxJob).where(OutboxJob.message_id == message.id, OutboxJob.kind == kind))
    if existing is not None:
        return existing
    parent_id = None
    if kind == "reply":
        parent_id = session.scalar(select(Message.id).where(Message.channel_id == message.channel_id,
                                                            Message.external_id == message.in_reply_to))
    message.status = "deleting" if kind == "delete" else "queued"
    prefix = "onevoice" if kind != "delete" else "onevoice-delete"
    job = OutboxJob(kind=kind, message_id=message.id, parent_message_id=parent_id, case_id=message.case_id,
                    channel_id=message.channel_id, payload=payload,
                    idempotency_key=f"{prefix}-{message.id}-{uuid.uuid4().hex[:8]}", created_by=author,
                    next_attempt_at=due_at or utcnow())
    session.add(job)
    session.flush()
    return job


def retry(session: Session, message_id: int) -> OutboxJob:
    """Send a failed message again (the retry button): the same job, so the same idempotency key."""
    job = session.scalar(select(OutboxJob).where(OutboxJob.message_id == message_id, OutboxJob.status == "failed")
                         .order_by(OutboxJob.id.desc()).limit(1))
    if job is None:
        if session.scalar(select(OutboxJob.id).where(OutboxJob.message_id == message_id)) is None:
            raise NotFound(f"message {message_id} has no delivery job")
        raise InvalidInput("only a failed send can be retried")
    job.status, job.next_attempt_at, job.last_error = "queued", utcnow(), None
    message = session.get(Message, message_id)
    message.status, message.error = ("deleting" if job.kind == "delete" else "queued"), None
    return job
