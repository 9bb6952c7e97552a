"""Hand-offs and triage corrections: case actions that reach above the case records (a notification for the
receiving team, a training example for triage)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.models import UserTeam
from onevoice.auth.principal import Principal
from onevoice.cases.access import actionable_case
from onevoice.cases.actions import record, team_by_key
from onevoice.cases.models import CaseTeam
from onevoice.cases.queue import queue_fields
from onevoice.errors import InvalidInput, NotFound
from onevoice.inbox.notify import notify_team
from onevoice.messages.models import Message
from onevoice.teams.models import Team
from onevoice.triage.service import record_correction


def hand_off(session: Session, who: Principal, case_id: int, team_key: str, note: str) -> dict:
    """Make another team the lead, with a note for them. The old lead stays on as a collaborator."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput("a hand-off needs a note for the receiving team")
    case = actionable_case(session, who, case_id)
    team = team_by_key(session, team_key)
    if case.lead_team_id == team.id:
        raise InvalidInput(f"{team.key} already leads this case")
    old_lead = session.get(Team, case.lead_team_id) if case.lead_team_id else None
    if old_lead is not None:
        entry = session.get(CaseTeam, (case.id, old_lead.id))
        if entry is not None:
            entry.role = "collaborator"
    entry = session.get(CaseTeam, (case.id, team.id))
    if entry is None:
        session.add(CaseTeam(case_id=case.id, team_id=team.id, role="lead", reason=note, **queue_fields(case)))
    else:
        entry.role, entry.reason = "lead", note
    case.lead_team_id = team.id
    # Someone in the old team was working it; the new team picks its own person.
    if case.assignee_id is not None and not session.scalar(
            select(UserTeam.user_id).where(UserTeam.user_id == case.assignee_id, UserTeam.team_id == team.id)):
        case.assignee_id = None
    session.flush()
    notify_team(session, team.id, case.id, "handoff", who.label, note)
    return record(session, case, who, "case.handed_off",
                  {"from": old_lead.key if old_lead else None, "to": team.key, "note": note})


def correct_triage(session: Session, who: Principal, case_id: int, message_id: int, field: str,
                   value: str) -> dict:
    """One-click correction of a message's intent, sentiment or team; it becomes a training example.

    A team correction also hands the lead to that team (the correction says routing was wrong).
    """
    case = actionable_case(session, who, case_id)
    message = session.get(Message, message_id)
    if message is None or message.case_id != case.id:
        raise NotFound(f"message {message_id} is not in case {case_id}")
    correction = record_correction(session, message_id, field, value, actor=who.label)
    first = session.scalar(select(Message.id).where(Message.case_id == case.id, Message.direction == "inbound")
                           .order_by(Message.id).limit(1))
    data = {"message_id": message_id, "field": field, "from": correction.old_value, "to": value}
    if field in ("intent", "sentiment") and message_id == first:
        setattr(case, field, value)
    if field == "team":
        team = team_by_key(session, value)
        if case.lead_team_id != team.id:
            hand_off(session, who, case.id, team.key, f"Triage corrected: this is for {team.name}.")
    return record(session, case, who, "triage.corrected", data)
