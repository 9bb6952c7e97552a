"""Live counts for the left rail. Each is capped (shown as "999+") so a count is an index range of at
most CAP entries, never a scan of every open case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onevoice.approvals.models import Approval
from onevoice.auth.principal import Principal
from onevoice.cases.access import partner_case_conditions, visible_ids
from onevoice.cases.models import OPEN_STATUSES, Case, CaseTeam, Incident
from onevoice.teams.models import Team

CAP = 1000


def _capped(session: Session, query) -> int:
    return session.scalar(select(func.count()).select_from(query.limit(CAP).subquery())) or 0


def rail_teams(session: Session, who: Principal) -> list[tuple[str, str]]:
    """(key, name) of the teams in this person's rail: theirs, or every team for those who see all."""
    q = select(Team.key, Team.name).order_by(Team.name)
    if not who.sees_all:
        q = q.where(Team.id.in_(who.team_ids or [-1]))
    return [tuple(r) for r in session.execute(q)]


def queue_counts(session: Session, who: Principal, now: datetime) -> dict[str, int]:
    counts: dict[str, int] = {}
    grant = partner_case_conditions(who)  # a partner counts only cases on their granted channels
    mine = select(Case.id).where(Case.assignee_id == (who.user_id or -1), Case.status.in_(OPEN_STATUSES), *grant)
    counts["mine"] = _capped(session, mine)
    teams = dict(session.execute(select(Team.key, Team.id)).all())
    for key, _name in rail_teams(session, who):
        team_q = select(CaseTeam.case_id).where(CaseTeam.team_id == teams[key], CaseTeam.status.in_(OPEN_STATUSES))
        if grant:
            team_q = team_q.join(Case, Case.id == CaseTeam.case_id).where(*grant)
        counts[f"team:{key}"] = _capped(session, team_q)
    if who.sees_all or grant:
        open_q = select(Case.id).where(Case.status.in_(OPEN_STATUSES), *grant)
        counts["open"] = _capped(session, open_q)
        counts["unassigned"] = _capped(session, open_q.where(Case.assignee_id.is_(None)))
        counts["breaching"] = _capped(session, open_q.where(Case.sla_due_at < now))
    else:
        theirs = select(CaseTeam.case_id).where(CaseTeam.team_id.in_(who.team_ids or [-1]),
                                                CaseTeam.status.in_(OPEN_STATUSES))
        counts["open"] = _capped(session, theirs.distinct())
        joined = theirs.join(Case, Case.id == CaseTeam.case_id)
        counts["unassigned"] = _capped(session, joined.where(Case.assignee_id.is_(None)).distinct())
        counts["breaching"] = _capped(session, theirs.where(CaseTeam.sla_due_at < now).distinct())
    pending = list(session.scalars(select(Approval.case_id).where(Approval.status == "pending",
                                                                  Approval.case_id.is_not(None)).limit(CAP)))
    counts["approval"] = len(visible_ids(session, who, list(set(pending))))
    # Cases of open incidents only: once an incident closes, its cases leave this queue (they stay tagged).
    incidents = list(session.scalars(select(Case.id).join(Incident, Incident.id == Case.incident_id)
                                     .where(Incident.status == "open", Case.status.in_(OPEN_STATUSES)).limit(CAP)))
    counts["incidents"] = len(visible_ids(session, who, incidents))
    return counts
