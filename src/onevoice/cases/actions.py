"""What people do to a case: assign, change status, add or remove collaborating teams, hand off the lead,
correct the triage. Each change checks access, records an event in the case history, keeps the team queues
in step, and returns the live update for the edge to publish after it commits.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onevoice.auth.models import User
from onevoice.auth.principal import Principal
from onevoice.cases.access import actionable_case
from onevoice.cases.models import CASE_STATUSES, OPEN_STATUSES, PRIORITIES, Case, CaseTeam
from onevoice.cases.queue import queue_fields, sync_queue
from onevoice.db import utcnow
from onevoice.errors import InvalidInput
from onevoice.events.models import Event
from onevoice.teams.models import Team


def case_team_keys(session: Session, case_id: int) -> tuple[str | None, list[str]]:
    """(lead team key, every team key on the case)."""
    rows = session.execute(select(Team.key, CaseTeam.role).join(CaseTeam, CaseTeam.team_id == Team.id)
                           .where(CaseTeam.case_id == case_id)).all()
    lead = next((k for k, role in rows if role == "lead"), None)
    return lead, sorted(k for k, _ in rows)


def live_update(session: Session, case: Case, actor: str, change: str) -> dict:
    lead, teams = case_team_keys(session, case.id)
    return {"type": "case.updated", "case_id": case.id, "lead_team": lead, "teams": teams,
            "priority": case.priority, "status": case.status, "actor": actor, "change": change}


def record(session: Session, case: Case, who: Principal, kind: str, data: dict) -> dict:
    """History event + queue sync + the live update (call after changing the case)."""
    case.updated_at = utcnow()
    session.add(Event(kind=kind, case_id=case.id, actor=who.label, data=data))
    session.flush()
    sync_queue(session, [case])
    return live_update(session, case, who.label, kind)


def team_by_key(session: Session, key: str) -> Team:
    team = session.scalar(select(Team).where(Team.key == key))
    if team is None:
        raise InvalidInput(f"unknown team {key!r}")
    return team


def assign(session: Session, who: Principal, case_id: int, user_id: int | None) -> dict:
    """Assign the case to a person (None: unassign). Anyone who can act on the case may assign it."""
    case = actionable_case(session, who, case_id)
    name = None
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise InvalidInput("no such active user")
        name = user.name
    if case.assignee_id == user_id:
        return live_update(session, case, who.label, "case.assigned")
    case.assignee_id = user_id
    return record(session, case, who, "case.assigned", {"user_id": user_id, "name": name})


def set_status(session: Session, who: Principal, case_id: int, status: str) -> dict:
    if status not in CASE_STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(CASE_STATUSES)}")
    case = actionable_case(session, who, case_id)
    old = case.status
    if old == status:
        return live_update(session, case, who.label, "case.status")
    case.status = status
    now = utcnow()
    if status in OPEN_STATUSES:
        case.resolved_at = None
    elif case.resolved_at is None:
        case.resolved_at = now
    return record(session, case, who, "case.status", {"from": old, "to": status})


def set_priority(session: Session, who: Principal, case_id: int, priority: str) -> dict:
    if priority not in PRIORITIES:
        raise InvalidInput(f"unknown priority {priority!r}")
    case = actionable_case(session, who, case_id)
    old, case.priority = case.priority, priority
    return record(session, case, who, "case.priority", {"from": old, "to": priority})


def add_team(session: Session, who: Principal, case_id: int, team_key: str, reason: str | None = None) -> dict:
    """Bring another team in to collaborate; the case appears in its queue at once."""
    case = actionable_case(session, who, case_id)
    team = team_by_key(session, team_key)
    if session.get(CaseTeam, (case.id, team.id)) is not None:
        return live_update(session, case, who.label, "case.teams_added")
    session.add(CaseTeam(case_id=case.id, team_id=team.id, role="collaborator", reason=reason or None,
                         **queue_fields(case)))
    session.flush()
    return record(session, case, who, "case.teams_added", {"teams": [team.key], "reason": reason or ""})


def remove_team(session: Session, who: Principal, case_id: int, team_key: str) -> dict:
    """Take a collaborating team off the case (the lead team is changed by handing off, not removed)."""
    case = actionable_case(session, who, case_id)
    team = team_by_key(session, team_key)
    entry = session.get(CaseTeam, (case.id, team.id))
    if entry is None:
        return live_update(session, case, who.label, "case.team_removed")
    if entry.role == "lead":
        raise InvalidInput("the lead team cannot be removed: hand the case off to another team instead")
    live = live_update(session, case, who.label, "case.team_removed")
    session.execute(delete(CaseTeam).where(CaseTeam.case_id == case.id, CaseTeam.team_id == team.id))
    out = record(session, case, who, "case.team_removed", {"team": team.key})
    # The removed team's open pages should drop the row too.
    out["teams"] = sorted(set(out["teams"]) | set(live["teams"]))
    return out
