"""Privacy tables (migration 0016_privacy): the requests of data subjects, retention rules and their runs.

None of them holds personal data: a request names the contact by its row id and the organization's own
reference (a ticket number), never by the person's name or handle, so the record of an erasure does not
bring back what was erased.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow

REQUEST_KINDS = ("erase", "export")
RETENTION_ACTIONS = ("anonymize", "delete")


class PrivacyRequest(Base):
    """One erasure or access request, as carried out: who, when, and how much was touched (counts only)."""

    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    # A plain integer, not a foreign key: the contact row may be gone, the record of the request stays.
    contact_id: Mapped[int] = mapped_column()
    reference: Mapped[str] = mapped_column(String(100), default="")
    requested_by: Mapped[str] = mapped_column(String(320))
    counts: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetentionRule(Base):
    """Message content older than `days` is anonymized (text, raw payload and attachments emptied; counts,
    times and labels kept) or deleted. Empty channel / kind: every channel / every kind. The most specific
    rule for a message decides (channel and kind, then channel, then kind, then the default)."""

    __tablename__ = "retention_rules"
    __table_args__ = (Index("ix_retention_rules_scope", "channel_id", "kind", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), default=None)
    kind: Mapped[str | None] = mapped_column(String(20), default=None)
    days: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(String(10), default="anonymize")
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(String(320), default="system")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetentionRun(Base):
    """One pass of the retention job: when, by whom, and how many messages each action touched."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    actor: Mapped[str] = mapped_column(String(320), default="scheduler")
    anonymized: Mapped[int] = mapped_column(default=0)
    deleted: Mapped[int] = mapped_column(default=0)
    attachments: Mapped[int] = mapped_column(default=0)
    raw_payloads: Mapped[int] = mapped_column(default=0)
    detail: Mapped[str] = mapped_column(Text, default="")
