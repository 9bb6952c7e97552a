from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow

KINDS = ("post", "comment", "mention", "direct", "review")
# accepted -> processed | failed (retryable); outbound: queued -> sent | failed
# "erased": an inbound message erased with its author before the pipeline processed it (privacy.erasure).
STATUSES = ("accepted", "processed", "failed", "erased", "queued", "sent")


class Message(Base):
    """Anything that reaches us or that we send. The platform's payload is kept verbatim in `raw`."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_messages_status_id", "status", "id"),
        Index("ix_messages_case_id_id", "case_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    external_id: Mapped[str] = mapped_column(String(300))
    direction: Mapped[str] = mapped_column(String(10), default="inbound")
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[dict] = mapped_column(default=dict)
    in_reply_to: Mapped[str | None] = mapped_column(String(300), default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)
    raw: Mapped[dict | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    status: Mapped[str] = mapped_column(String(20), default="accepted")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)

    language: Mapped[str | None] = mapped_column(String(8), default=None)
    triage: Mapped[dict | None] = mapped_column(default=None)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), default=None, index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), default=None)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None)
    # Outbound only: who wrote it and what the platform answered.
    sent_by: Mapped[str | None] = mapped_column(String(300), default=None)
    # What the platform attached: [{"type": image|video|audio|link|file, "url", "alt"}] (links, never fetched).
    attachments: Mapped[list | None] = mapped_column(default=None)
    # Set when the author edited or deleted it on the platform; the text before stays in the events.
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set when retention or an erasure emptied the text, payload and attachments (privacy/); labels stay.
    redacted_at: Mapped[datetime | None] = mapped_column(default=None)


class ErasedMessage(Base):
    """A message erased with its author (privacy.erasure), by a digest of its platform id, never the id itself:
    a platform re-sending it (a retried webhook with other bytes, a poll after a reconnection) must not store
    it again (pipeline.intake). The message's own row holds a meaningless token instead of the id."""

    __tablename__ = "erased_messages"

    # The digest first: intake looks a batch's digests up (the primary key's index), whatever the channels.
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel_id: Mapped[int] = mapped_column(primary_key=True)


class RoutingDecision(Base):
    """What the playbook decided for one message, and why (the rules that fired)."""

    __tablename__ = "routing_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None, index=True)
    lead_team: Mapped[str | None] = mapped_column(String(64), default=None)
    collaborators: Mapped[list] = mapped_column(default=list)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    sla_policy: Mapped[str | None] = mapped_column(String(60), default=None)
    tags: Mapped[list] = mapped_column(default=list)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    close_as_spam: Mapped[bool] = mapped_column(default=False)
    rules: Mapped[list] = mapped_column(default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    playbook_version: Mapped[str | None] = mapped_column(String(60), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
