"""Advocacy's tables: shareable items, each employee's share links and their clicks, the coordinator's
settings, employees' linked public handles and what the organization's channels saw them post.

A customer's marks (advocate, VIP, detractor to watch) live on the contact itself (`contacts.marks`), since
routing reads them on the pipeline's path and must not import this package.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow

NETWORKS = ("x", "linkedin", "facebook", "bluesky", "mastodon")
# draft -> pending_approval -> approved | rejected; approved -> withdrawn. Only approved items are shared.
ITEM_STATES = ("pending_approval", "approved", "rejected", "withdrawn")


class ShareableItem(Base):
    """Something employees may share: a text, a link, optional media, per-network variants, a campaign tag
    and an expiry. Checked by the policy guard and the approval rules like a post; the link a share redirects
    to is the one that was approved (an edit would have to be approved again)."""

    __tablename__ = "advocacy_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    link_url: Mapped[str] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text, default=None)
    media_alt: Mapped[str] = mapped_column(String(1000), default="")
    variants: Mapped[dict] = mapped_column(default=dict)  # network -> text
    campaign: Mapped[str] = mapped_column(String(100), default="", index=True)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20), default="pending_approval", index=True)
    warnings: Mapped[list] = mapped_column(default=list)  # the guard's warnings, shown to the coordinator
    approval_reason: Mapped[str] = mapped_column(Text, default="")
    approver_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(320), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)
    created_by: Mapped[str] = mapped_column(String(320))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Share(Base):
    """One employee's link for one item on one network: `/s/<code>` redirects to the approved link with UTM
    parameters and counts the click. Sharing again on the same network reuses it."""

    __tablename__ = "advocacy_shares"
    __table_args__ = (UniqueConstraint("item_id", "user_id", "network"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("advocacy_items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    network: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    shared_count: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_shared_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShareClick(Base):
    """A counted click on a share link: when, nothing about who (no address, no user agent)."""

    __tablename__ = "advocacy_clicks"
    __table_args__ = (Index("ix_advocacy_clicks_share_at", "share_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("advocacy_shares.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AdvocacySetting(Base):
    """The coordinator's switches: the leaderboard on or off, the teams allowed to curate items."""

    __tablename__ = "advocacy_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict] = mapped_column(default=dict)
    updated_by: Mapped[str] = mapped_column(String(320), default="system")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkedHandle(Base):
    """An employee's public handle on a network, linked by them (opt-in) and revocable by them."""

    __tablename__ = "advocacy_handles"
    __table_args__ = (Index("ix_advocacy_handles_kind_handle", "network", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    network: Mapped[str] = mapped_column(String(30))  # a channel kind: mastodon, bluesky, x, sandbox...
    handle: Mapped[str] = mapped_column(String(300))  # normalized: lower case, no leading @
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class VoiceSighting(Base):
    """A public message from a linked handle that the organization's channels saw: shown to the coordinator
    with the guard's findings (and to the employee), never a customer case."""

    __tablename__ = "advocacy_voice"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle_id: Mapped[int] = mapped_column(ForeignKey("advocacy_handles.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    findings: Mapped[list] = mapped_column(default=list)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class SharerProfile(Base):
    """What an employee told us for sharing: the Mastodon instance they post from (named once, kept)."""

    __tablename__ = "advocacy_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    mastodon_instance: Mapped[str | None] = mapped_column(String(253), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
