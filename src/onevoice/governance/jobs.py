"""Governance's periodic jobs, each in its own unit of work: approval escalation (every minute) and policy
reminders (hourly). Both are safe to run on several nodes at once and to run twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from onevoice.db import unit_of_work, utcnow
from onevoice.governance.approval_rules import escalate_overdue
from onevoice.governance.policy import due_reminders
from onevoice.inbox.notify import notify_team, notify_user
from onevoice.teams.models import Team


def escalate(factory: sessionmaker, publish: Callable[[list[dict]], object] | None = None,
             now: datetime | None = None) -> list[dict]:
    """Move approval requests near their SLA to the next team, tell that team, update open pages."""
    with unit_of_work(factory) as session:
        moved = escalate_overdue(session, now or utcnow())
        for m in moved:
            team_id = session.scalar(select(Team.id).where(Team.key == m["to_team"]))
            if team_id is not None:
                notify_team(session, team_id, m["case_id"], "approval", "scheduler",
                            f"A reply waiting for {m['from_team']} was escalated to you (level {m['level']}).")
    if moved and publish is not None:
        publish([{"type": "case.updated", "case_id": m["case_id"], "teams": [m["from_team"], m["to_team"]],
                  "change": "approval.escalated", "actor": "scheduler"} for m in moved if m["case_id"]])
    return moved


def remind(factory: sessionmaker, now: datetime | None = None) -> list[dict]:
    """Remind who has not acknowledged the current policy version (at most weekly per person)."""
    with unit_of_work(factory) as session:
        due = due_reminders(session, now or utcnow())
        for r in due:
            notify_user(session, r["user_id"], None, "policy", "scheduler",
                        f"Please read and acknowledge the social media policy (version {r['version']}).")
    return due
