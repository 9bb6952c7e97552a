"""Who wants which notification, the alert rules coordinators set, alerts fired, and mail waiting to go out.

`MailMessage.key` and `Alert.key` are idempotence keys (unique): a digest for one person and one week, or an
alert for one incident opening or one SLA episode, is written once however many nodes run the jobs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow


class NotificationPreference(Base):
    """One person's subscriptions (no row: subscribed to nothing)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    weekly_digest: Mapped[bool] = mapped_column(default=False)
    incident_alerts: Mapped[bool] = mapped_column(default=False)
    sla_alerts: Mapped[bool] = mapped_column(default=False)
    # Alerts show in the app always; also by email when this is set.
    alert_email: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertRule(Base):
    """A threshold on a figure (first-response SLA attainment over the last `days`), for the organization
    (team_id NULL, scope_key 'org') or one team ('team:<id>'), and whether it is firing now."""

    __tablename__ = "alert_rules"
    __table_args__ = (Index("uq_alert_rules_scope", "metric", "scope_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(60), default="first_response_sla")
    scope_key: Mapped[str] = mapped_column(String(40), default="org")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), default=None)
    threshold: Mapped[float] = mapped_column(default=0.9)
    days: Mapped[int] = mapped_column(default=7)
    enabled: Mapped[bool] = mapped_column(default=True)
    firing: Mapped[bool] = mapped_column(default=False)
    # Counts the times the figure fell below the threshold: each fall is one alert (its key names it).
    episode: Mapped[int] = mapped_column(default=0)
    last_value: Mapped[float | None] = mapped_column(default=None)
    checked_at: Mapped[datetime | None] = mapped_column(default=None)
    changed_at: Mapped[datetime | None] = mapped_column(default=None)
    set_by: Mapped[str] = mapped_column(String(320), default="system")


class Alert(Base):
    """An alert that was raised (once per key) and what it said."""

    __tablename__ = "alerts"
    __table_args__ = (Index("uq_alerts_key", "key", unique=True), Index("ix_alerts_created", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))  # incident, sla
    text: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailMessage(Base):
    """An email to send (digest or alert), kept until sent: a failure is retried later, never dropped."""

    __tablename__ = "mail_messages"
    __table_args__ = (Index("uq_mail_messages_key", "key", unique=True),
                      Index("ix_mail_messages_due", "status", "next_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))  # digest, alert
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # pending -> sending (claimed by one node) -> sent; a failed try goes back to pending with a later
    # next_at; after MAX_ATTEMPTS it stays `failed` (kept, shown to admins, sent again by hand).
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
