from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow

CASE_STATUSES = ("open", "pending_customer", "pending_internal", "resolved", "closed_spam")
OPEN_STATUSES = ("open", "pending_customer", "pending_internal")
PRIORITIES = ("low", "normal", "high", "urgent")


class Conversation(Base):
    """A thread on one channel: a root message and every reply that hangs off it."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel_id", "root_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    root_external_id: Mapped[str] = mapped_column(String(300))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), default=None)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """The unit of work: one customer matter, led by one team, with other teams collaborating."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_updated", "status", "last_message_at", "id"),
        Index("ix_cases_updated", "last_message_at", "id"),
        Index("ix_cases_contact_status", "contact_id", "status"),
        # The inbox's queues and sorts (migration 0002_inbox): my cases, breaching SLA, by priority, incidents.
        Index("ix_cases_assignee", "assignee_id", "status", "last_message_at", "id"),
        Index("ix_cases_status_sla", "status", "sla_due_at", "id"),
        Index("ix_cases_status_priority", "status", "priority", "last_message_at", "id"),
        Index("ix_cases_incident", "incident_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    subject: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str | None] = mapped_column(String(100), default=None)
    intent: Mapped[str | None] = mapped_column(String(40), default=None)
    sentiment: Mapped[str | None] = mapped_column(String(10), default=None)
    tags: Mapped[list] = mapped_column(default=list)
    lead_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), default=None)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id"), default=None)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), default=None)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    sla_policy: Mapped[str | None] = mapped_column(String(60), default=None)
    sla_due_at: Mapped[datetime | None] = mapped_column(default=None)
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    message_count: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseTeam(Base):
    """A team's entry for a case: its lead team (role 'lead') or a collaborating team.

    This is each team's queue. Status, priority and times are copied from the case so that a team's
    queue is one index range scan, however many cases the organization has.
    """

    __tablename__ = "case_teams"
    __table_args__ = (
        Index("ix_case_teams_queue_status", "team_id", "status", "last_message_at", "case_id"),
        Index("ix_case_teams_queue", "team_id", "last_message_at", "case_id"),
        Index("ix_case_teams_sla", "team_id", "status", "sla_due_at", "case_id"),
        Index("ix_case_teams_priority", "team_id", "status", "priority", "last_message_at", "case_id"),
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), default="collaborator")
    status: Mapped[str] = mapped_column(String(20), default="open")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    sla_due_at: Mapped[datetime | None] = mapped_column(default=None)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text, default=None)


class Incident(Base):
    """A surge of negative messages on one topic: one incident links the cases and alerts PR."""

    __tablename__ = "incidents"
    __table_args__ = (
        # One open incident per topic, even with several workers detecting the same surge at once
        # (migration 0004_surge).
        Index("uq_incidents_open_topic", "topic", unique=True, sqlite_where=text("status = 'open'"),
              postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="open")
    summary: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Lifecycle (0008_triage, pipeline/incidents.py): the normal hourly rate when it opened, the last
    # time a case joined, who closed it and why, how often it came back.
    baseline_rate: Mapped[float] = mapped_column(default=0.0)
    last_activity_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    close_reason: Mapped[str | None] = mapped_column(Text, default=None)
    reopen_count: Mapped[int] = mapped_column(default=0)


class SurgeCount(Base):
    """Negative messages per surge key (a product or a topic) and time bucket, for the surge detector.

    Upserted in the transaction that processes the messages (counts add up atomically across workers),
    so a surge check reads a few dozen small rows instead of scanning messages. Two bucket widths: five
    minutes for the last hour, one hour for the 24-hour baseline. Rows older than a day are pruned.
    """

    __tablename__ = "surge_counts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    width: Mapped[int] = mapped_column(primary_key=True)  # seconds
    # Start of the bucket in Unix seconds: plain integers keep the per-batch upsert cheap.
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
