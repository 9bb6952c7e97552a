"""Advocates and detractors: customers ranked by what they said about us in a period.

Self-contained on purpose (it reads only the reports' case facts and contacts, and returns plain dicts) so
that the advocacy feature (issue 13) can share it rather than count a second way. Definitions in
docs/metrics.md, "Advocates and detractors".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onevoice.contacts.models import Contact
from onevoice.reports.models import CaseFacts


@dataclass(frozen=True)
class Standing:
    contact_id: int
    positive: int
    negative: int
    last_at: datetime | None

    @property
    def net(self) -> int:
        return self.positive - self.negative

    @property
    def side(self) -> str:
        """advocate (more positive than negative messages), detractor (the reverse), or neutral."""
        return "advocate" if self.net > 0 else "detractor" if self.net < 0 else "neutral"


def standings(session: Session, conds: list) -> dict[int, Standing]:
    """Each customer's positive and negative messages over the cases matching `conds` (on CaseFacts)."""
    rows = session.execute(select(CaseFacts.contact_id, func.sum(CaseFacts.positive), func.sum(CaseFacts.negative),
                                  func.max(CaseFacts.last_message_at))
                           .where(*conds, CaseFacts.contact_id.is_not(None)).group_by(CaseFacts.contact_id))
    return {cid: Standing(cid, int(p or 0), int(n or 0), last) for cid, p, n, last in rows}


def advocacy_ranking(session: Session, conds: list, previous_conds: list, limit: int = 10) -> dict:
    """The top advocates and detractors (by net messages, then reach, then recency) and who changed side
    since the previous period."""
    now = standings(session, conds)
    before = standings(session, previous_conds)
    people = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(
        [s.contact_id for s in now.values() if s.side != "neutral"] or [-1])))}

    def row(s: Standing, was: Standing | None = None) -> dict:
        c = people.get(s.contact_id)
        return {"contact_id": s.contact_id, "name": _name(c), "followers": c.followers if c else 0,
                "positive": s.positive, "negative": s.negative, "net": s.net, "last_at": s.last_at,
                "side": s.side, "was": was.side if was else None}

    def ranked(side: str) -> list[dict]:
        chosen = [s for s in now.values() if s.side == side]
        chosen.sort(key=lambda s: (-abs(s.net), -(people[s.contact_id].followers if s.contact_id in people else 0),
                                   -(s.last_at.timestamp() if s.last_at else 0), s.contact_id))
        return [row(s) for s in chosen[:limit]]

    moved = [row(s, before[s.contact_id]) for s in now.values()
             if s.contact_id in before and {s.side, before[s.contact_id].side} == {"advocate", "detractor"}]
    moved.sort(key=lambda r: (r["side"] != "advocate", -r["followers"], r["contact_id"]))
    return {"advocates": ranked("advocate"), "detractors": ranked("detractor"),
            "advocate_count": sum(1 for s in now.values() if s.side == "advocate"),
            "detractor_count": sum(1 for s in now.values() if s.side == "detractor"),
            "moved": moved[:limit * 2],
            "turned_advocate": sum(1 for r in moved if r["side"] == "advocate"),
            "turned_detractor": sum(1 for r in moved if r["side"] == "detractor")}


def _name(contact: Contact | None) -> str:
    if contact is None:
        return "unknown"
    from onevoice.contacts.names import display_name

    return display_name(contact.name, contact.handle, default=f"contact {contact.id}")
