from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow


class Playbook(Base):
    """A routing playbook as YAML text; each save is a new version row, the active one decides every new message."""

    __tablename__ = "playbooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)
    source: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=False)
    updated_by: Mapped[str] = mapped_column(String(200), default="system")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    activated_at: Mapped[datetime | None] = mapped_column(default=None)
    activated_by: Mapped[str | None] = mapped_column(String(200), default=None)


class LearnedRoute(Base):
    """A coordinator's decision on a learned routing rule (routing/learning.py): dismissed or promoted.

    The rule itself is not stored: it is recomputed from the team corrections. This row only records that
    corrections up to `decided_at` for this context and team are no longer applied as a learned rule
    (dismissed: routing was right after all; promoted: the playbook now says it).
    """

    __tablename__ = "learned_routes"
    __table_args__ = (Index("ix_learned_routes_context", "intent", "subject", "channel_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intent: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200), default="")
    channel_kind: Mapped[str] = mapped_column(String(40), default="")
    team: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    corrections: Mapped[int] = mapped_column(default=0)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
