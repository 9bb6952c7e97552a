"""Reading cases: the team queues with cursor pagination, and one case with everything about it."""

from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.cases.access import visible_case, visible_conditions
from onevoice.cases.models import CASE_STATUSES, PRIORITIES, Case, CaseTeam
from onevoice.cases.partner_view import names_only
from onevoice.channels.models import Channel
from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.contacts.names import display_name
from onevoice.contacts.service import display_names
from onevoice.errors import InvalidInput, NotFound
from onevoice.events.models import Event
from onevoice.messages.models import Message, RoutingDecision
from onevoice.messages.schemas import MessageOut
from onevoice.teams.models import Team


def _encode_cursor(at: datetime, case_id: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{case_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        at, _, cid = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), int(cid)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid cursor: pass back the next_cursor of the previous page") from None


def team_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Team.key, Team.id)).all())


def list_cases(session: Session, team: str | None = None, status: str | None = None,
               priority: str | None = None, cursor: str | None = None, limit: int = 50,
               where: list | tuple = ()) -> dict:
    """Cases, most recently active first. `team` is the team's queue: cases it leads or works on. `where`:
    extra conditions on Case (a partner's grant, `cases.access.partner_case_conditions`)."""
    if status is not None and status not in CASE_STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(CASE_STATUSES)}")
    if priority is not None and priority not in PRIORITIES:
        raise InvalidInput(f"unknown priority {priority!r}: use one of {', '.join(PRIORITIES)}")
    limit = max(1, min(limit, 200))
    if team is not None:
        tid = session.scalar(select(Team.id).where(Team.key == team))
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
    items = [case_summary(session, cases[i]) for i in page if i in cases]
    attach_names(session, items)
    next_cursor = None
    if len(ids) > limit and page:
        last = cases[page[-1]]
        next_cursor = _encode_cursor(last.last_message_at, last.id)
    return {"items": items, "next_cursor": next_cursor}


def case_summary(session: Session, case: Case) -> dict:
    return {
        "id": case.id, "status": case.status, "priority": case.priority, "subject": case.subject,
        "topic": case.topic, "intent": case.intent, "sentiment": case.sentiment, "tags": case.tags,
        "lead_team_id": case.lead_team_id, "contact_id": case.contact_id, "channel_id": case.channel_id,
        "requires_approval": case.requires_approval, "message_count": case.message_count,
        "sla_policy": case.sla_policy, "sla_due_at": case.sla_due_at.isoformat() if case.sla_due_at else None,
        "last_message_at": case.last_message_at.isoformat(), "created_at": case.created_at.isoformat(),
    }


def attach_names(session: Session, items: list[dict]) -> None:
    """Resolve team, collaborator, channel and contact names for a page in a few queries."""
    if not items:
        return
    teams = {tid: key for key, tid in team_ids(session).items()}
    channels = dict(session.execute(select(Channel.id, Channel.key)).all())
    ids = [i["id"] for i in items]
    collab: dict[int, list[str]] = {}
    for cid, tid in session.execute(select(CaseTeam.case_id, CaseTeam.team_id)
                                    .where(CaseTeam.case_id.in_(ids), CaseTeam.role == "collaborator")):
        collab.setdefault(cid, []).append(teams.get(tid, str(tid)))
    contact_ids = {i["contact_id"] for i in items if i["contact_id"]}
    # Columns, not entities: a list page needs four fields, not each contact's identities.
    contacts = {c.id: c for c in session.execute(
        select(Contact.id, Contact.name, Contact.handle, Contact.followers, Contact.vip, Contact.marks)
        .where(Contact.id.in_(contact_ids)))
    } if contact_ids else {}
    names = display_names(session, list(contacts.values()))
    for item in items:
        item["lead_team"] = teams.get(item["lead_team_id"])
        item["collaborators"] = sorted(collab.get(item["id"], []))
        item["channel"] = channels.get(item["channel_id"])
        c = contacts.get(item["contact_id"])
        item["contact"] = None if c is None else {"id": c.id, "name": c.name, "handle": c.handle,
                                                  "followers": c.followers, "display_name": names[c.id],
                                                  "marks": [*(c.marks or []), *(["vip"] if c.vip else [])]}


def get_case(session: Session, case_id: int, who: Principal | None = None) -> dict:
    """One case with everything about it. With `who` (the reader, already allowed to see this case), the
    customer's other cases are only those they may see too, and a partner gets the customer's identities on
    their granted channels only (`cases.partner_view` narrows the rest)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case with id {case_id}")
    out = case_summary(session, case)
    attach_names(session, [out])
    channels = dict(session.execute(select(Channel.id, Channel.key)).all())
    messages = list(session.scalars(select(Message).where(Message.case_id == case_id)
                                    .order_by(Message.created_at, Message.id)))
    out["messages"] = [MessageOut.of(m, channels.get(m.channel_id)).model_dump() for m in messages]
    if case.contact_id:
        contact = session.get(Contact, case.contact_id)
        identities = list(session.scalars(select(ContactIdentity).where(ContactIdentity.contact_id == contact.id)
                                          .order_by(ContactIdentity.id)))
        if who is not None and who.by_grant:
            identities = [i for i in identities if i.channel_id in who.channel_ids]
        out["contact"] = {
            "id": contact.id, "name": contact.name, "handle": contact.handle, "followers": contact.followers,
            "display_name": display_name(contact.name, contact.handle, *(i.external_id for i in identities[:1])),
            "vip": contact.vip, "message_count": contact.message_count,
            "identities": [{"channel": channels.get(i.channel_id), "external_id": i.external_id,
                            "handle": i.handle, "name": i.name, "followers": i.followers} for i in identities],
            "other_cases": _other_cases(session, contact.id, case_id, who, channels),
        }
    decisions = session.scalars(select(RoutingDecision).where(RoutingDecision.case_id == case_id)
                                .order_by(RoutingDecision.id))
    out["routing"] = [{"message_id": d.message_id, "lead_team": d.lead_team, "collaborators": d.collaborators,
                       "priority": d.priority, "rules": d.rules, "reason": d.reason} for d in decisions]
    out["routing_reason"] = out["routing"][0]["reason"] if out["routing"] else None
    out["events"] = [{"kind": e.kind, "actor": e.actor, "message_id": e.message_id, "data": e.data,
                      "at": e.created_at.isoformat()}
                     for e in session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.id))]
    return out


def teams_of_case(session: Session, case_id: int) -> list[dict]:
    """The teams with a part in a case ({key, name, role, reason}), the lead first."""
    rows = session.execute(select(Team.key, Team.name, CaseTeam.role, CaseTeam.reason)
                           .join(CaseTeam, CaseTeam.team_id == Team.id)
                           .where(CaseTeam.case_id == case_id).order_by(CaseTeam.role.desc(), Team.key)).all()
    return [{"key": k, "name": n, "role": r, "reason": why} for k, n, r, why in rows]


def read_case(session: Session, who: Principal, case_id: int) -> dict:
    """A case as this reader may see it (`GET /api/v1/cases/{id}`): missing when they may not; a partner's
    copy names people instead of giving their addresses (`cases.partner_view`)."""

    data = get_case(session, visible_case(session, who, case_id).id, who)
    if who.by_grant:
        names_only(session, data)
    return data


def _other_cases(session: Session, contact_id: int, case_id: int, who: Principal | None, channels: dict,
                 limit: int = 50) -> list[dict]:
    """The customer's other cases, newest first, that `who` may see (cases.access: the one visibility rule)."""
    rows = session.scalars(select(Case).where(Case.contact_id == contact_id, Case.id != case_id,
                                              *(visible_conditions(who) if who is not None else ()))
                           .order_by(Case.id.desc()).limit(limit))
    return [{"id": c.id, "status": c.status, "subject": c.subject, "channel": channels.get(c.channel_id)}
            for c in rows]
