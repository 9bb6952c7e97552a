"""The audit log's one table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow


class AuditRecord(Base):
    """Append-only. `hash` = SHA-256(prev_hash + canonical JSON of the record); `seq` has no gaps.

    Database triggers (migration 0005) refuse UPDATE and DELETE; `onevoice audit verify` finds the first
    record whose chain is broken if someone with owner rights goes around them. With an audit key configured,
    `mac` = HMAC-SHA256(key, hash) and `key_id` names the key (audit/anchor.py; migration 0013): without
    the key, a rewritten chain cannot be sealed again. Records written before a key existed have neither.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"), Index("ix_audit_log_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(300), default="")
    data: Mapped[dict] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    mac: Mapped[str | None] = mapped_column(String(64), default=None)
    key_id: Mapped[str | None] = mapped_column(String(16), default=None)
