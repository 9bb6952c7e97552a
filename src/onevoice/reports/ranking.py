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
from onevoice.contacts.names import display_name
from onevoice.reports.models import CaseFacts


@dataclass(frozen=True)
class Standing:
    contact_id: int
    positive: int
    negative: int
    last_at: datetime | None
    followers: int = 0

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
                                  func.max(CaseFacts.last_message_at), func.max(Contact.followers))
                           .join(Contact, Contact.id == CaseFacts.contact_id)
                           .where(*conds).group_by(CaseFacts.contact_id))
    return {cid: Standing(cid, int(p or 0), int(n or 0), last, int(f or 0)) for cid, p, n, last, f in rows}


def advocacy_ranking(session: Session, conds: list, previous_conds: list, limit: int = 10) -> dict:
    """The top advocates and detractors (by net messages, then reach, then recency) and who changed side
    since the previous period."""
    now = standings(session, conds)
    before = standings(session, previous_conds) if previous_conds else {}

    def ranked(side: str) -> list[Standing]:
        chosen = [s for s in now.values() if s.side == side]
        chosen.sort(key=lambda s: (-abs(s.net), -s.followers, -(s.last_at.timestamp() if s.last_at else 0),
                                   s.contact_id))
        return chosen[:limit]

    changed = [s for s in now.values()
               if s.contact_id in before and {s.side, before[s.contact_id].side} == {"advocate", "detractor"}]
    shown = {s.contact_id for s in [*ranked("advocate"), *ranked("detractor"), *changed[:limit * 2]]}
    # Names only for the people shown: a period can hold tens of thousands of customers.
    names = {cid: display_name(name, handle, default=f"contact {cid}") for cid, name, handle in session.execute(
        select(Contact.id, Contact.name, Contact.handle).where(Contact.id.in_(sorted(shown) or [-1])))}

    def row(s: Standing, was: Standing | None = None) -> dict:
        return {"contact_id": s.contact_id, "name": names.get(s.contact_id, "unknown"), "followers": s.followers,
                "positive": s.positive, "negative": s.negative, "net": s.net, "last_at": s.last_at,
                "side": s.side, "was": was.side if was else None}

    moved = [row(s, before[s.contact_id]) for s in changed]
    moved.sort(key=lambda r: (r["side"] != "advocate", -r["followers"], r["contact_id"]))
    return {"advocates": [row(s) for s in ranked("advocate")], "detractors": [row(s) for s in ranked("detractor")],
            "advocate_count": sum(1 for s in now.values() if s.side == "advocate"),
            "detractor_count": sum(1 for s in now.values() if s.side == "detractor"),
            "moved": moved[:limit * 2],
            "turned_advocate": sum(1 for r in moved if r["side"] == "advocate"),
            "turned_detractor": sum(1 for r in moved if r["side"] == "detractor")}
