"""Advocates and detractors in the reports: the advocacy feature's rule (advocacy/ranking.py), read from
the reports' kept facts.

A customer's standing is the one /advocacy shows: their inbound messages weighed by age (half-life 90 days),
recommendations and complaints counted extra, multiplied by their reach; advocate at a net of +1 or more,
detractor at -1 or less. The facts keep each case's part of that sum (reports/facts.py `signals`, as
2^(time since SIGNAL_EPOCH / half-life)), so a standing at any moment is one SUM per customer times one
factor, with no message read. The report's standing is taken at the end of its period (now, for a period
that ends today), over the cases of the history advocacy reads (advocacy/ranking.HISTORY); the previous
standing at the end of the previous period. The customers counted: every customer (as /advocacy), or
with a team, channel, product or tag filter, those with a case that matches it. Docs: docs/metrics.md,
"Advocates and detractors".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from onevoice.advocacy.ranking import HISTORY, Standing, order, reach_factor
from onevoice.contacts.models import Contact
from onevoice.contacts.names import display_name
from onevoice.reports.facts import HALF_LIFE_S, SIGNAL_EPOCH
from onevoice.reports.metrics import Scope, conditions
from onevoice.reports.models import CaseFacts


def moment(scope: Scope, end) -> datetime:
    """The standing's moment for a period ending on `end`: the end of that day, or now if sooner."""
    return min(scope.now, datetime.combine(end + timedelta(days=1), time(0), tzinfo=scope.now.tzinfo))


def _standing(cid: int, adv_w, det_w, pos, neg, rec, last, followers: int, at: datetime) -> Standing:
    factor = reach_factor(followers) * 0.5 ** ((at - SIGNAL_EPOCH).total_seconds() / HALF_LIFE_S)
    return Standing(cid, round(float(adv_w or 0) * factor, 4), round(float(det_w or 0) * factor, 4), int(pos or 0),
                    int(neg or 0), int(rec or 0), int(followers or 0), last)


def standings(session: Session, scope: Scope, previous: bool = True) -> tuple[dict[int, Standing],
                                                                                dict[int, Standing]]:
    """Each customer's standing at the end of the period, and at the end of the previous one (one query)."""
    now_at = moment(scope, scope.end)
    before_at = moment(scope, scope.previous().end)
    first_day = (now_at - HISTORY).date().isoformat()
    cut = scope.previous().end.isoformat()
    f = CaseFacts
    where = [f.opened_day >= first_day, f.opened_day <= scope.end.isoformat(), f.contact_id.is_not(None)]
    if scope.team_ids or scope.channel_id is not None or scope.product or scope.tag:
        wide = replace(scope, start=(now_at - HISTORY).date())
        where.append(f.contact_id.in_(select(f.contact_id).where(*conditions(wide))))
    earlier = f.opened_day <= cut

    def upto(column):
        return func.sum(case((earlier, column), else_=0))

    columns = [f.contact_id, func.sum(f.adv_w), func.sum(f.det_w), func.sum(f.adv_n), func.sum(f.det_n),
               func.sum(f.recommendations), func.max(f.signal_at), func.max(Contact.followers)]
    if previous:
        columns += [upto(f.adv_w), upto(f.det_w), upto(f.adv_n), upto(f.det_n), upto(f.recommendations),
                    func.max(case((earlier, f.signal_at), else_=None)),
                    func.max(case((earlier, 1), else_=None))]  # had a case by then
    now, before = {}, {}
    for row in session.execute(select(*columns).join(Contact, Contact.id == f.contact_id).where(*where)
                               .group_by(f.contact_id)):
        cid, followers = row[0], row[7]
        now[cid] = _standing(cid, *row[1:7], followers, now_at)
        if previous and row[14] is not None:
            before[cid] = _standing(cid, *row[8:14], followers, before_at)
    return now, before


def advocacy_ranking(session: Session, scope: Scope, limit: int = 10, previous: bool = True) -> dict:
    """The top advocates and detractors (advocacy/ranking.order: strongest net first, then the most recent)
    and who changed side (advocate <-> detractor) since the end of the previous period."""
    now, before = standings(session, scope, previous)
    advocates, detractors = order(now.values())
    changed = sorted((s for s in now.values() if s.contact_id in before
                      and {s.status, before[s.contact_id].status} == {"advocate", "detractor"}),
                     key=lambda s: (s.status != "advocate", -s.followers, s.contact_id))
    shown = {s.contact_id for s in [*advocates[:limit], *detractors[:limit], *changed[:limit * 2]]}
    # Names only for the people shown: a history can hold tens of thousands of customers.
    names = {cid: display_name(name, handle, default=f"contact {cid}") for cid, name, handle in session.execute(
        select(Contact.id, Contact.name, Contact.handle).where(Contact.id.in_(sorted(shown) or [-1])))}

    def row(s: Standing, was: Standing | None = None) -> dict:
        return {"contact_id": s.contact_id, "name": names.get(s.contact_id, "unknown"), "followers": s.followers,
                "positive": s.positive, "negative": s.negative, "recommendations": s.recommendations,
                "advocacy": round(s.advocacy, 2), "detraction": round(s.detraction, 2), "net": round(s.net, 2),
                "last_at": s.last_at, "side": s.status, "was": was.status if was else None}

    moved = [row(s, before[s.contact_id]) for s in changed]
    return {"advocates": [row(s) for s in advocates[:limit]], "detractors": [row(s) for s in detractors[:limit]],
            "advocate_count": len(advocates), "detractor_count": len(detractors),
            "moved": moved[:limit * 2],
            "turned_advocate": sum(1 for r in moved if r["side"] == "advocate"),
            "turned_detractor": sum(1 for r in moved if r["side"] == "detractor")}
