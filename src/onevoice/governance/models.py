"""Governance tables: policy-guard rules, approval rules and escalations, the audit log, the employee
social media policy (versions, acknowledgements, training, reminders)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow

SEVERITIES = ("block", "approval", "warn")
RULE_KINDS = ("terms", "pii", "disclosure", "length", "tone")


class GuardRule(Base):
    """One configurable check of outgoing text. `kind` picks the checker; `terms` and `params` configure it.

    terms: banned / watched words and phrases, unapproved claims, regulated words (kind "terms");
    params: {"category": ...} for terms, {"types": [...], "allow": [...]} for pii, {"tags": [...]} for
    disclosure, {"limits": {kind: n}} for length, {"negative_below": -0.5, "sarcasm": true} for tone.
    """

    __tablename__ = "guard_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10), default="warn")
    terms: Mapped[list] = mapped_column(default=list)
    params: Mapped[dict] = mapped_column(default=dict)
    # Empty: every channel kind.
    channel_kinds: Mapped[list] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(String(200), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalRule(Base):
    """When an outgoing text needs sign-off, and from whom. Rules are tried in `position` order; the first
    whose every set condition holds decides. An empty list / None condition matches anything."""

    __tablename__ = "approval_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=100)
    enabled: Mapped[bool] = mapped_column(default=True)
    channels: Mapped[list] = mapped_column(default=list)        # channel keys
    channel_kinds: Mapped[list] = mapped_column(default=list)   # connector kinds (x, mastodon...)
    intents: Mapped[list] = mapped_column(default=list)         # case intents
    priorities: Mapped[list] = mapped_column(default=list)      # case priorities (risk)
    severities: Mapped[list] = mapped_column(default=list)      # any guard finding of these severities
    finding_rules: Mapped[list] = mapped_column(default=list)   # any finding of these guard rule keys
    author_roles: Mapped[list] = mapped_column(default=list)
    kinds: Mapped[list] = mapped_column(default=list)           # what is sent: "reply", "post"
    partner: Mapped[bool | None] = mapped_column(default=None)           # author is (True) / is not a partner
    first_time_author: Mapped[bool | None] = mapped_column(default=None)  # author has sent nothing before
    playbook_requires: Mapped[bool | None] = mapped_column(default=None)  # the case's requires_approval flag
    approver_team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    sla_minutes: Mapped[int] = mapped_column(default=60)
    escalation_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    updated_by: Mapped[str] = mapped_column(String(200), default="system")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalEscalation(Base):
    """An approval request handed to the next approver because it neared its SLA (one row per step)."""

    __tablename__ = "approval_escalations"
    __table_args__ = (UniqueConstraint("approval_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(default=1)
    from_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    to_team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    escalated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PolicyVersion(Base):
    """One published version of the employee social media policy (Markdown, rendered without HTML)."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    published_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class PolicyAcknowledgement(Base):
    __tablename__ = "policy_acknowledgements"
    __table_args__ = (UniqueConstraint("version_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)


class PolicyReminder(Base):
    """A reminder sent (or due to be shown) to someone who has not acknowledged a version yet."""

    __tablename__ = "policy_reminders"
    __table_args__ = (Index("ix_policy_reminders_user_version", "user_id", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reminded_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingModule(Base):
    __tablename__ = "training_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    minutes: Mapped[int] = mapped_column(default=5)
    active: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(String(200), default="system")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingCompletion(Base):
    __tablename__ = "training_completions"
    __table_args__ = (UniqueConstraint("module_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("training_modules.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["ApprovalEscalation", "ApprovalRule", "GuardRule", "PolicyAcknowledgement",
           "PolicyReminder", "PolicyVersion", "TrainingCompletion", "TrainingModule", "SEVERITIES", "RULE_KINDS"]
