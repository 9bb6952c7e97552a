from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow


class Notification(Base):
    """Something a person or a whole team should look at: an @mention in a note, a hand-off, an approval."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user", "user_id", "read_at", "id"),
        Index("ix_notifications_team", "team_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), default=None)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), default=None)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), default=None)
    kind: Mapped[str] = mapped_column(String(40), default="mention")
    actor: Mapped[str] = mapped_column(String(200), default="system")
    text: Mapped[str] = mapped_column(Text, default="")
    # Where to look, for a notification about something other than one case (an alert: the incident and its
    # cases, the report and the cases behind a figure): [{"label", "href"}], hrefs being paths on this site.
    links: Mapped[list | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
