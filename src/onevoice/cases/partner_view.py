"""What a partner sees of the people around a case: the staff they need, by name, and never an email.

Partners are outsiders (an agency, a reseller) held to their grant (`cases.access`). On a case they may see:

* to assign it, the active people of the case's teams who can see it themselves (a partner among them only
  when the case's channel is granted to them too), as id and name: not the whole staff list;
* in the history and on approvals, people by name: an address that names someone becomes their name, and any
  other address or operator label (`token:…`, `cli:…`) reads "staff". Labels such as `system` or `outbox` stay;
* in live events (the page's stream and `/api/v1/stream`), whoever acted reads "staff" unless it was them;
  on their notifications, whoever sent one by name.

The customer's identities (granted channels only) and other cases (the visibility rule) are narrowed where
they are read, in `cases.service.get_case(who=...)`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from onevoice.auth.models import ChannelGrant, User, UserTeam
from onevoice.auth.principal import Principal
from onevoice.cases.models import Case, CaseTeam
from onevoice.cases.schemas import CaseDetail

STAFF = "staff"


def staff_on_case(session: Session, case: Case) -> list[dict]:
    """[{id, name}] of the active people who work on this case (its teams' members who can see it)."""
    granted = select(ChannelGrant.user_id).where(ChannelGrant.channel_id == case.channel_id)
    rows = session.execute(
        select(User.id, User.name).join(UserTeam, UserTeam.user_id == User.id)
        .join(CaseTeam, and_(CaseTeam.team_id == UserTeam.team_id, CaseTeam.case_id == case.id))
        .where(User.active.is_(True), or_(User.role != "partner", User.id.in_(granted)))
        .distinct().order_by(User.name, User.id)).all()
    return [{"id": uid, "name": name} for uid, name in rows]


def masked(label: str | None) -> str | None:
    """A person's address or an operator label (`token:…`, `cli:…`) as a partner reads it: "staff"."""
    return STAFF if label and ("@" in label or ":" in label) else label


def live_for_partner(event: dict, who: Principal) -> dict:
    """A live event as a partner receives it: whoever acted, unless it was them, is "staff"."""
    actor = event.get("actor")
    return event if actor is None or actor == who.label else {**event, "actor": masked(actor)}


def shown_as(session: Session, labels: set[str | None]) -> dict:
    """label -> what a partner reads: a person's name for their address, else `masked(label)`."""
    addresses = [label for label in labels if label and "@" in label]
    names = dict(session.execute(select(User.email, User.name).where(User.email.in_(addresses))).all()) \
        if addresses else {}
    return {label: names.get(label) or masked(label) for label in labels}


def names_only(session: Session, case: CaseDetail, approvals: Iterable[dict] = ()) -> None:
    """Replace people's addresses with their names, in place: in a case's history (`get_case`), on its
    replies (their author) and in the approval requests the case page shows beside its messages (`decided_by`)."""
    approvals = list(approvals)
    # A reply carries its sender's address as its author's name (outbox.service.draft_reply).
    replies = [m.author for m in case.messages if m.direction == "outbound"]
    shown = shown_as(session, {e.actor for e in case.events} | {a["decided_by"] for a in approvals}
                     | {r.get("name") for r in replies})
    for event in case.events:
        event.actor = shown[event.actor]
    for author in replies:
        author["name"] = shown[author.get("name")]
        author["display_name"] = author["name"] or author["display_name"]
    for approval in approvals:
        approval["decided_by"] = shown[approval["decided_by"]]
