from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow


class Channel(Base):
    """An account the organization owns on a platform, served by one connector kind."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    # Non-secret settings; secrets live encrypted in `secrets` (see the governance feature).
    config: Mapped[dict] = mapped_column(default=dict)
    secrets: Mapped[str | None] = mapped_column(default=None)
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    enabled: Mapped[bool] = mapped_column(default=True)
    health: Mapped[str] = mapped_column(String(40), default="unknown")
    health_detail: Mapped[str | None] = mapped_column(default=None)
    poll_cursor: Mapped[str | None] = mapped_column(default=None)
    last_activity_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboundFailure(Base):
    """A webhook delivery we could not read: kept verbatim with the reason, never dropped."""

    __tablename__ = "inbound_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    headers: Mapped[dict] = mapped_column(default=dict)
    body: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="failed")  # failed | resolved
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
