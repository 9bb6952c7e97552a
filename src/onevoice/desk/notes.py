"""Internal notes on a case, with @team and @person mentions that notify them.

A note is an event in the case history (kind "note"), so it sits in the timeline with everything else.
`@support` names a team by key; `@ana` names the one person whose address begins `ana@`, and `@ana@acme.test`
names a person by their whole address. A mentioned team that is not on the case yet is added as a
collaborator, so it can see what it was asked.

A notification carries the note's text, so a person is notified only when the mention names exactly one
active person and that person can see the case (`cases.access.can_see`, the rule everywhere). Otherwise
nobody is notified and the author is told, on the note and in the toast: `@ana` shared by several people
asks for the whole address; an unknown name and a person who cannot see the case get the same answer
("nobody of that name can see this case"), so a note does not reveal who exists beyond the case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.models import User
from onevoice.auth.principal import Principal
from onevoice.auth.users import principal_for
from onevoice.cases.access import actionable_case, can_see
from onevoice.cases.actions import add_team, record
from onevoice.cases.models import Case, CaseTeam
from onevoice.errors import InvalidInput
from onevoice.inbox.notify import notify_team, notify_user
from onevoice.teams.models import Team

# A name, or a whole address; not inside a word or another address ("me@ana" mentions nobody).
MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._-]{0,63}(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)+)?)", re.IGNORECASE)
MAX_NOTE = 10_000
AMBIGUOUS = "names more than one person: write their whole address, e.g. @{name}@example.org"
NOBODY = "nobody of that name can see this case"


@dataclass
class Mentions:
    teams: list[Team] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    not_notified: list[dict] = field(default_factory=list)  # [{"mention": "@ana", "why": "..."}]


@dataclass
class NoteOutcome:
    live: dict
    not_notified: list[dict]


def find_mentions(session: Session, text: str, case: Case) -> Mentions:
    """The teams and the people a note names, and the mentions that notify nobody (with why)."""
    names = list(dict.fromkeys(m.lower().rstrip(".") for m in MENTION.findall(text or "")))
    out = Mentions()
    if not names:
        return out
    teams = {t.key: t for t in session.scalars(select(Team).where(Team.key.in_(names)))}
    for name in names:
        if name in teams:
            out.teams.append(teams[name])
            continue
        people = list(session.scalars(select(User).where(
            User.active.is_(True),
            User.email == name if "@" in name else User.email.startswith(f"{name}@", autoescape=True)).limit(2)))
        if len(people) > 1:
            out.not_notified.append({"mention": f"@{name}", "why": AMBIGUOUS.format(name=name)})
        elif not people or not can_see(session, principal_for(session, people[0]), case):
            out.not_notified.append({"mention": f"@{name}", "why": NOBODY})
        else:
            out.users.append(people[0])
    return out


def add_note(session: Session, who: Principal, case_id: int, text: str) -> NoteOutcome:
    """Add a note, notify what it mentions; `not_notified` says which mentions reached nobody, and why."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("a note needs some text")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"a note is at most {MAX_NOTE} characters")
    case = actionable_case(session, who, case_id)
    found = find_mentions(session, text, case)
    on_case = set(session.scalars(select(CaseTeam.team_id).where(CaseTeam.case_id == case.id)))
    for team in found.teams:
        if team.id not in on_case:
            add_team(session, who, case.id, team.key, reason=f"mentioned by {who.name}")
        notify_team(session, team.id, case.id, "mention", who.label, text)
    for user in found.users:
        notify_user(session, user.id, case.id, "mention", who.label, text)
    live = record(session, case, who, "note", {
        "text": text, "author": who.name, "teams": [t.key for t in found.teams],
        "users": [{"id": u.id, "name": u.name} for u in found.users], "not_notified": found.not_notified})
    return NoteOutcome(live, found.not_notified)
