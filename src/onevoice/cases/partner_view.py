"""What a partner sees of the people around a case: the staff they need, by name, and never an email.

Partners are outsiders (an agency, a reseller) held to their grant (`cases.access`). On a case they may see:

* to assign it, the active people of the case's teams who can see it themselves (a partner among them only
  when the case's channel is granted to them too), as id and name: not the whole staff list;
* in the history and on approvals, people by name: an address that names someone becomes their name, and any
  other address or operator label (`token:…`, `cli:…`) reads "staff". Labels such as `system` or `outbox` stay.

The customer's identities (granted channels only) and other cases (the visibility rule) are narrowed where
they are read, in `cases.service.get_case(who=...)`.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from onevoice.auth.models import ChannelGrant, User, UserTeam
from onevoice.cases.models import Case, CaseTeam

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


def names_only(session: Session, data: dict) -> None:
    """Replace people's addresses in a case's data (`get_case`, the case page) with their names, in place."""
    labels = {e["actor"] for e in data.get("events", [])}
    labels |= {m["approval"]["decided_by"] for m in data.get("messages", []) if m.get("approval")}
    labels.discard(None)
    addresses = [label for label in labels if "@" in label]
    names = dict(session.execute(select(User.email, User.name).where(User.email.in_(addresses))).all()) \
        if addresses else {}

    def name(label: str | None) -> str | None:
        if label is None or ("@" not in label and ":" not in label):
            return label
        return names.get(label, STAFF)

    for event in data.get("events", []):
        event["actor"] = name(event["actor"])
    for message in data.get("messages", []):
        if message.get("approval"):
            message["approval"]["decided_by"] = name(message["approval"]["decided_by"])
