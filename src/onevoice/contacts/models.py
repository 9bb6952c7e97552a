from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onevoice.db import Base, utcnow


class Contact(Base):
    """A person or organization who writes to us, across every channel they use."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    handle: Mapped[str | None] = mapped_column(String(300), default=None)
    followers: Mapped[int] = mapped_column(default=0)
    vip: Mapped[bool] = mapped_column(default=False)
    # Marks people put on a customer ("advocate", "detractor_watch"; VIP is `vip`): shown in the inbox and read
    # by routing playbooks (the `mark` condition). Set through advocacy, audited there.
    marks: Mapped[list] = mapped_column(default=list)
    message_count: Mapped[int] = mapped_column(default=0)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the person's data was erased (privacy/erasure.py): the row stays, with counts and times only.
    erased_at: Mapped[datetime | None] = mapped_column(default=None)

    identities: Mapped[list[ContactIdentity]] = relationship(back_populates="contact", lazy="selectin")


class ContactIdentity(Base):
    """One platform account (channel + the platform's author id) that belongs to a contact."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("channel_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    external_id: Mapped[str] = mapped_column(String(300))
    handle: Mapped[str | None] = mapped_column(String(300), default=None)
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    followers: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="identities")
