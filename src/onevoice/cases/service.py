"""Reading cases: the team queues with cursor pagination, and one case with everything about it."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.cases.access import visible_case, visible_conditions
from onevoice.cases.models import CASE_STATUSES, PRIORITIES, Case, CaseTeam
from onevoice.cases.partner_view import names_only
from onevoice.cases.schemas import (
    CASE_FIELDS,
    CaseContact,
    CaseDetail,
    CaseEvent,
    CaseIdentity,
    CaseListItem,
    CasePage,
    CaseRouting,
    ContactBrief,
    OtherCase,
)
from onevoice.channels.service import channel_keys_by_id
from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.contacts.names import display_name
from onevoice.contacts.service import display_names
from onevoice.errors import InvalidInput, NotFound
from onevoice.events.models import Event, shown
from onevoice.messages.models import Message, RoutingDecision
from onevoice.messages.schemas import MessageOut
from onevoice.teams.models import Team
from onevoice.teams.service import team_id, team_keys_by_id

# The row model of a list of cases: CaseListItem, or one that extends it (the inbox's QueueRow).
Row = TypeVar("Row", bound=CaseListItem)


def _encode_cursor(at: datetime, case_id: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{case_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        at, _, cid = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), int(cid)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid cursor: pass back the next_cursor of the previous page") from None


def list_cases(session: Session, team: str | None = None, status: str | None = None,
               priority: str | None = None, cursor: str | None = None, limit: int = 50,
               where: list | tuple = ()) -> CasePage:
    """Cases, most recently active first. `team` is the team's queue: cases it leads or works on. `where`:
    extra conditions on Case (a partner's grant, `cases.access.partner_case_conditions`)."""
    if status is not None and status not in CASE_STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(CASE_STATUSES)}")
    if priority is not None and priority not in PRIORITIES:
        raise InvalidInput(f"unknown priority {priority!r}: use one of {', '.join(PRIORITIES)}")
    limit = max(1, min(limit, 200))
    if team is not None:
        tid = team_id(session, team)
        if tid is None:
            raise InvalidInput(f"unknown team {team!r}")
        table = CaseTeam
        query = select(CaseTeam.case_id).where(CaseTeam.team_id == tid)
        at_col, id_col = CaseTeam.last_message_at, CaseTeam.case_id
    else:
        table = Case
        query = select(Case.id)
        at_col, id_col = Case.last_message_at, Case.id
    if where:
        query = (query.join(Case, Case.id == CaseTeam.case_id) if table is CaseTeam else query).where(*where)
    if status:
        query = query.where(table.status == status)
    if priority:
        query = query.where(table.priority == priority)
    if cursor:
        at, cid = _decode_cursor(cursor)
        query = query.where(or_(at_col < at, and_(at_col == at, id_col < cid)))
    ids = list(session.scalars(query.order_by(at_col.desc(), id_col.desc()).limit(limit + 1)))
    page = ids[:limit]
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(page)))} if page else {}
    next_cursor = None
    if len(ids) > limit and page:
        last = cases[page[-1]]
        next_cursor = _encode_cursor(last.last_message_at, last.id)
    return CasePage(items=case_summaries(session, [cases[i] for i in page if i in cases]), next_cursor=next_cursor)


def _columns(case: Case) -> dict:
    """The case's own columns, as `CaseSummary` names them (keyword arguments for the models)."""
    return {name: getattr(case, name) for name in CASE_FIELDS}


def _collaborators(session: Session, case_ids: list[int], teams: dict[int, str]) -> dict[int, list[str]]:
    """case id -> the keys of the teams collaborating on it, sorted."""
    collab: dict[int, list[str]] = {}
    for cid, tid in session.execute(select(CaseTeam.case_id, CaseTeam.team_id)
                                    .where(CaseTeam.case_id.in_(case_ids), CaseTeam.role == "collaborator")):
        collab.setdefault(cid, []).append(teams.get(tid, str(tid)))
    return {cid: sorted(keys) for cid, keys in collab.items()}


def _contact_briefs(session: Session, contact_ids: set[int]) -> dict[int, ContactBrief]:
    if not contact_ids:
        return {}
    # Columns, not entities: a list page needs a few fields, not each contact's identities.
    rows = list(session.execute(select(Contact.id, Contact.name, Contact.handle, Contact.followers, Contact.vip,
                                       Contact.marks).where(Contact.id.in_(contact_ids))))
    names = display_names(session, rows)
    return {c.id: ContactBrief(id=c.id, name=c.name, handle=c.handle, followers=c.followers,
                               display_name=names[c.id], marks=[*(c.marks or []), *(["vip"] if c.vip else [])])
            for c in rows}


def case_summaries(session: Session, cases: list[Case], model: type[Row] = CaseListItem,
                   more: Callable[[Case], dict] | None = None) -> list[Row]:
    """The cases, in the order given, as the lists show them (the API's list, the inbox's rows): with their
    teams', channel's and customer's names, read in a few queries for the whole page, none per case.

    A list that shows more of each case (the inbox's `QueueRow`) names its model, a `CaseListItem`, and gives
    its own fields with `more(case)`: each row is then validated once, not built twice."""
    if not cases:
        return []
    teams = team_keys_by_id(session)
    channels = channel_keys_by_id(session)
    collab = _collaborators(session, [c.id for c in cases], teams)
    contacts = _contact_briefs(session, {c.contact_id for c in cases if c.contact_id})
    return [model(**_columns(c), lead_team=teams.get(c.lead_team_id), collaborators=collab.get(c.id, []),
                  channel=channels.get(c.channel_id), contact=contacts.get(c.contact_id),
                  **(more(c) if more else {})) for c in cases]


def get_case(session: Session, case_id: int, who: Principal | None = None) -> CaseDetail:
    """One case with everything about it. With `who` (the reader, already allowed to see this case), the
    customer's other cases are only those they may see too, and a partner gets the customer's identities on
    their granted channels only (`cases.partner_view` narrows the rest)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case with id {case_id}")
    teams = team_keys_by_id(session)
    channels = channel_keys_by_id(session)
    messages = session.scalars(select(Message).where(Message.case_id == case_id)
                               .order_by(Message.created_at, Message.id))
    decisions = session.scalars(select(RoutingDecision).where(RoutingDecision.case_id == case_id)
                                .order_by(RoutingDecision.id))
    routing = [CaseRouting.model_validate(d) for d in decisions]
    events = session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.id))
    return CaseDetail(
        **_columns(case), lead_team=teams.get(case.lead_team_id),
        collaborators=_collaborators(session, [case.id], teams).get(case.id, []),
        channel=channels.get(case.channel_id),
        contact=_case_contact(session, case, who, channels) if case.contact_id else None,
        messages=[MessageOut.of(m, channels.get(m.channel_id)) for m in messages],
        routing=routing, routing_reason=routing[0].reason if routing else None,
        events=[CaseEvent(kind=e.kind, actor=e.actor, message_id=e.message_id, data=shown(e.data), at=e.created_at)
                for e in events])


def _case_contact(session: Session, case: Case, who: Principal | None, channels: dict[int, str]) -> CaseContact:
    contact = session.get(Contact, case.contact_id)
    identities = list(session.scalars(select(ContactIdentity).where(ContactIdentity.contact_id == contact.id)
                                      .order_by(ContactIdentity.id)))
    if who is not None and who.by_grant:
        identities = [i for i in identities if i.channel_id in who.channel_ids]
    return CaseContact(
        id=contact.id, name=contact.name, handle=contact.handle, followers=contact.followers,
        display_name=display_name(contact.name, contact.handle, *(i.external_id for i in identities[:1])),
        vip=contact.vip, message_count=contact.message_count,
        identities=[CaseIdentity(channel=channels.get(i.channel_id), external_id=i.external_id, handle=i.handle,
                                 name=i.name, followers=i.followers) for i in identities],
        other_cases=_other_cases(session, contact.id, case.id, who, channels))


def teams_of_case(session: Session, case_id: int) -> list[dict]:
    """The teams with a part in a case ({key, name, role, reason}), the lead first."""
    rows = session.execute(select(Team.key, Team.name, CaseTeam.role, CaseTeam.reason)
                           .join(CaseTeam, CaseTeam.team_id == Team.id)
                           .where(CaseTeam.case_id == case_id).order_by(CaseTeam.role.desc(), Team.key)).all()
    return [{"key": k, "name": n, "role": r, "reason": why} for k, n, r, why in rows]


def read_case(session: Session, who: Principal, case_id: int) -> CaseDetail:
    """A case as this reader may see it (`GET /api/v1/cases/{id}`): missing when they may not; a partner's
    copy names people instead of giving their addresses (`cases.partner_view`)."""
    case = get_case(session, visible_case(session, who, case_id).id, who)
    if who.by_grant:
        names_only(session, case)
    return case


def _other_cases(session: Session, contact_id: int, case_id: int, who: Principal | None, channels: dict,
                 limit: int = 50) -> list[OtherCase]:
    """The customer's other cases, newest first, that `who` may see (cases.access: the one visibility rule)."""
    rows = session.scalars(select(Case).where(Case.contact_id == contact_id, Case.id != case_id,
                                              *(visible_conditions(who) if who is not None else ()))
                           .order_by(Case.id.desc()).limit(limit))
    return [OtherCase(id=c.id, status=c.status, subject=c.subject, channel=channels.get(c.channel_id)) for c in rows]
