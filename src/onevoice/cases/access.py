"""Who may see and act on a case.

* Admins and coordinators see every case.
* Everyone else sees the cases one of their teams has a part in (as lead or collaborator) and the cases
  assigned to them.
* Partners (outside agencies, resellers) are held to their grant as well: a case is theirs only when its
  channel is granted to them (`channel_grants`, `Principal.channel_ids`) AND one of their teams has a part
  in it. Being assigned a case does not widen a partner's grant: assignment is someone else's act.

Checked here, in the services, so that every edge (pages, API, CLI) applies the same rule; the inbox's
queues and counts apply the same conditions (`partner_case_conditions`).
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from onevoice.auth.principal import Principal
from onevoice.cases.models import Case, CaseTeam
from onevoice.errors import Forbidden, NotFound


def partner_case_conditions(who: Principal) -> list:
    """Extra WHERE conditions on `Case` for someone held to a grant (none for everyone else)."""
    if not who.by_grant:
        return []
    # An alias, so that inside a query already reading case_teams the subquery is not correlated to that row.
    part = aliased(CaseTeam)
    return [Case.channel_id.in_(sorted(who.channel_ids) or [-1]),
            exists().where(part.case_id == Case.id, part.team_id.in_(sorted(who.team_ids) or [-1]))]


def visible_conditions(who: Principal) -> list:
    """WHERE conditions on `Case` for the cases this person may see (the rule of `can_see`, as SQL): for lists
    that show cases beside the one being read, such as a customer's other cases."""
    if who.sees_all:
        return []
    if who.by_grant:
        return partner_case_conditions(who)
    part = aliased(CaseTeam)
    team = exists().where(part.case_id == Case.id, part.team_id.in_(sorted(who.team_ids) or [-1]))
    return [or_(team, Case.assignee_id == who.user_id)] if who.user_id is not None else [team]


def can_see(session: Session, who: Principal, case: Case) -> bool:
    if who.sees_all:
        return True
    if who.by_grant and case.channel_id not in who.channel_ids:
        return False
    if not who.by_grant and who.user_id is not None and case.assignee_id == who.user_id:
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
    if who.by_grant:
        return set(session.scalars(select(Case.id).where(Case.id.in_(case_ids), *visible_conditions(who))))
    # The rule of visible_conditions, as two key lookups: with the team test inside an OR, PostgreSQL hashed
    # every part the team has in any case (a scan that grows with the organization) to check a page of rows.
    out: set[int] = set()
    for i in range(0, len(case_ids), 500):
        chunk = case_ids[i:i + 500]
        out.update(session.scalars(select(CaseTeam.case_id).where(
            CaseTeam.case_id.in_(chunk), CaseTeam.team_id.in_(sorted(who.team_ids) or [-1]))))
        if who.user_id is not None:
            out.update(session.scalars(select(Case.id).where(Case.id.in_(chunk), Case.assignee_id == who.user_id)))
    return out
