from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow


class Post(Base):
    """Something the organization publishes on its own accounts: one text for one or more channels."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    media: Mapped[list] = mapped_column(default=list)  # [{"url", "mime", "alt"}]
    sponsored: Mapped[bool] = mapped_column(default=False)
    scheduled_at: Mapped[datetime | None] = mapped_column(default=None, index=True)  # UTC; None: at once
    created_by: Mapped[str] = mapped_column(String(300), index=True)  # Principal.label
    author_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostTarget(Base):
    """One channel of a post. Its text, status, platform id, URL and error are on the outbound message."""

    __tablename__ = "post_targets"
    __table_args__ = (UniqueConstraint("post_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
