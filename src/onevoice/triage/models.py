from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow


class TriageCorrection(Base):
    """A responder's correction of a triage label: a labelled example for the next training run."""

    __tablename__ = "triage_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None, index=True)
    field: Mapped[str] = mapped_column(String(20))  # intent | sentiment | team
    old_value: Mapped[str | None] = mapped_column(String(60), default=None)
    new_value: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelVersion(Base):
    """A trained set of triage heads, with the quality it reached before it was switched on."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(60), unique=True)
    path: Mapped[str] = mapped_column(Text)
    metrics: Mapped[dict] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Product(Base):
    """The organization's vocabulary, matched in messages (tolerant of typos and hashtags): its products,
    competitors' names and its own terms. An entry may carry an intent (triage leans toward it when the
    entry is named) and a team (routing hands such messages to it)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list] = mapped_column(default=list)
    # product | competitor | term
    kind: Mapped[str] = mapped_column(String(20), default="product", server_default="product")
    intent: Mapped[str | None] = mapped_column(String(30), default=None)
    team: Mapped[str | None] = mapped_column(String(60), default=None)
