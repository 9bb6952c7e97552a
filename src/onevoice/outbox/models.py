from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow

# queued -> sending -> sent | failed; a queued job whose attempt failed transiently waits for next_attempt_at.
STATUSES = ("queued", "sending", "sent", "failed", "cancelled")


class OutboxJob(Base):
    """One outgoing text to deliver through a connector: the durable record that makes sends retryable.

    `kind` is "reply" (to `parent_message_id`), "post" (publish on the channel's own account, `payload.media`)
    or "delete" (remove what the message's send put on the platform, `payload.external_id`). The text lives on
    the outbound Message row so the conversation (or the post) shows it from the moment it is queued. A
    message has at most one job of each kind.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),
                      UniqueConstraint("message_id", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="reply")
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    payload: Mapped[dict | None] = mapped_column(default=None)
    parent_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None, index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_by: Mapped[str] = mapped_column(String(200), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
