from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow


class ChannelConnect(Base):
    """One attempt to connect (or reconnect) a channel through a platform's sign-in.

    The OAuth `state` is stored only as its SHA-256 and is bound to the sign-in session that started it; it is
    used once (`used_at`). What must stay on the server (the PKCE verifier, the app's client secret, a Meta
    user's pages and their tokens) is in `data`, encrypted like channel secrets.
    """

    __tablename__ = "channel_connects"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("user_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    channel_key: Mapped[str] = mapped_column(String(64))
    reconnect: Mapped[bool] = mapped_column(default=False)
    # authorize (waiting for the platform) -> pick (Meta: choose a Page) -> done | failed
    stage: Mapped[str] = mapped_column(String(20), default="authorize")
    data: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
