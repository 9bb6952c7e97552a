"""Who may see and act on a case: admins and coordinators see every case; everyone else sees the cases of
the teams they belong to (as lead or collaborator) and the cases assigned to them.

Checked here, in the services, so that every edge (pages, API, CLI) applies the same rule.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.cases.models import Case, CaseTeam
from onevoice.errors import Forbidden, NotFound


def can_see(session: Session, who: Principal, case: Case) -> bool:
    if who.sees_all or (who.user_id is not None and case.assignee_id == who.user_id):
        return True
    if not who.team_ids:
        return False
    return session.scalar(select(CaseTeam.team_id).where(CaseTeam.case_id == case.id,
                                                         CaseTeam.team_id.in_(who.team_ids)).limit(1)) is not None


def visible_case(session: Session, who: Principal, case_id: int, for_update: bool = False) -> Case:
    """The case if this person may see it. An invisible case is reported as missing, not forbidden, so
    that ids cannot be probed."""
    case = session.get(Case, case_id, with_for_update=for_update and session.bind.dialect.name == "postgresql")
    if case is None or not can_see(session, who, case):
        raise NotFound(f"no case with id {case_id}")
    return case


def actionable_case(session: Session, who: Principal, case_id: int) -> Case:
    """The case if this person may also change it (read-only roles may look, not act)."""
    case = visible_case(session, who, case_id, for_update=True)
    if not who.can_act:
        raise Forbidden(f"the {who.role} role can read cases but not change them")
    return case


def visible_ids(session: Session, who: Principal, case_ids: list[int]) -> set[int]:
    """Which of these case ids this person may see (one query for a page of rows)."""
    if not case_ids:
        return set()
    if who.sees_all:
        return set(case_ids)
    seen = set(session.scalars(select(CaseTeam.case_id).where(CaseTeam.case_id.in_(case_ids),
                                                              CaseTeam.team_id.in_(who.team_ids or [-1]))))
    if who.user_id is not None:
        seen |= set(session.scalars(select(Case.id).where(Case.id.in_(case_ids), Case.assignee_id == who.user_id)))
    return seen
