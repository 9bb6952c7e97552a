from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow

STATUSES = ("pending", "approved", "rejected", "cancelled")


class Approval(Base):
    """An outgoing text waiting for sign-off. Approving it queues the held outbound message for sending.

    Governance extends this (approver team, SLA and escalation, edit-and-approve); the columns it will need
    are here already so the inbox and governance share one table.
    """

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_status_case", "status", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None, index=True)
    # Set for a post (publishing): the held message is one channel's copy of it; replies have a case instead.
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), default=None, index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    approver_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    requested_by: Mapped[str] = mapped_column(String(200), default="system")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)
