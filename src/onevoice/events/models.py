from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow


class Event(Base):
    """An append-only record of what happened to a message or a case (the case history)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None, index=True)
    actor: Mapped[str] = mapped_column(String(200), default="system")
    data: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Keys of an event's data written for the reports' upkeep alone: `message.processed`'s "triage" (pipeline/processor.py)
# repeats four fields of the message's triage in a small document the upkeep parses cheaply. Not part of what the
# API shows of an event: the message's own triage says the same, and its position-based array would be a
# contract nobody meant to offer.
UPKEEP_ONLY = frozenset({"triage"})


def shown(data: dict | None) -> dict | None:
    """An event's data as the API shows it: without the upkeep's own keys."""
    if not data or UPKEEP_ONLY.isdisjoint(data):
        return data
    return {k: v for k, v in data.items() if k not in UPKEEP_ONLY}
