"""Internal notes on a case, with @team and @person mentions that notify them.

A note is an event in the case history (kind "note"), so it sits in the timeline with everything else.
`@support` names a team by key; `@ana` names a person by the part of their email before the @.
A mentioned team that is not on the case yet is added as a collaborator, so it can see what it was asked.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.models import User
from onevoice.auth.principal import Principal
from onevoice.cases.access import actionable_case
from onevoice.cases.actions import add_team, record
from onevoice.cases.models import CaseTeam
from onevoice.errors import InvalidInput
from onevoice.inbox.notify import notify_team, notify_user
from onevoice.teams.models import Team

MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._-]{0,63})", re.IGNORECASE)
MAX_NOTE = 10_000


def find_mentions(session: Session, text: str) -> tuple[list[Team], list[User]]:
    names = {m.lower().rstrip(".") for m in MENTION.findall(text or "")}
    if not names:
        return [], []
    teams = list(session.scalars(select(Team).where(Team.key.in_(names))))
    rest = names - {t.key for t in teams}
    users = []
    if rest:
        for user in session.scalars(select(User).where(User.active.is_(True))):
            if user.email.split("@")[0].lower() in rest:
                users.append(user)
    return teams, users


def add_note(session: Session, who: Principal, case_id: int, text: str) -> dict:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("a note needs some text")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"a note is at most {MAX_NOTE} characters")
    case = actionable_case(session, who, case_id)
    teams, users = find_mentions(session, text)
    on_case = set(session.scalars(select(CaseTeam.team_id).where(CaseTeam.case_id == case.id)))
    for team in teams:
        if team.id not in on_case:
            add_team(session, who, case.id, team.key, reason=f"mentioned by {who.name}")
        notify_team(session, team.id, case.id, "mention", who.label, text)
    for user in users:
        notify_user(session, user.id, case.id, "mention", who.label, text)
    return record(session, case, who, "note", {
        "text": text, "author": who.name, "teams": [t.key for t in teams],
        "users": [{"id": u.id, "name": u.name} for u in users]})
