"""Advocates and detractors in the reports: the advocacy feature's rule (advocacy/ranking.py), read from
the reports' kept facts.

A customer's standing is the one /advocacy shows: their inbound messages weighed by age (half-life 90 days),
recommendations and complaints counted extra, multiplied by their reach; advocate at a net of +1 or more,
detractor at -1 or less. The facts keep each case's part of that sum (reports/facts.py `signals`, as
2^(time since SIGNAL_EPOCH / half-life)), so a standing at any moment is one SUM per customer times one
factor, with no message read; per customer those sums are kept too (ContactSignals), so counting the
advocates reads one row per customer. The report's standing is taken at the end of its period (now, for a
period that ends today): the kept sums less the cases opened after that day. "Changed side" compares it
with the standing at the end of the previous period. The customers counted: every customer (as
/advocacy), or with a team, channel, product or tag filter, those with a matching case in the period.
Docs: docs/metrics.md, "Advocates and detractors".
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from onevoice.advocacy.ranking import THRESHOLD, Standing, order, reach_factor, status_of
from onevoice.contacts.models import Contact
from onevoice.contacts.names import display_name
from onevoice.reports.facts import HALF_LIFE_S, SIGNAL_EPOCH
from onevoice.reports.metrics import Scope, conditions
from onevoice.reports.models import CaseFacts, ContactSignals


def moment(scope: Scope, end) -> datetime:
    """The standing's moment for a period ending on `end`: the end of that day, or now if sooner."""
    return min(scope.now, datetime.combine(end + timedelta(days=1), time(0), tzinfo=scope.now.tzinfo))


def _factor(at: datetime) -> float:
    return 0.5 ** ((at - SIGNAL_EPOCH).total_seconds() / HALF_LIFE_S)


def _nets(scope: Scope):
    """Per customer: their net standing at the end of the period (net0), of the previous period (net1) and of
    the one before that (net2), as one materialized CTE. A standing at a moment is the customer's kept sums
    (ContactSignals) less their cases opened after it, times the decay and the reach."""
    c, f = ContactSignals, CaseFacts
    prev = scope.previous()
    ends = [scope.end.isoformat(), prev.end.isoformat(), prev.previous().end.isoformat()]
    ks = [_factor(moment(scope, day)) for day in (scope.end, prev.end, prev.previous().end)]
    filtered = bool(scope.team_ids or scope.channel_id is not None or scope.product or scope.tag)
    # With a filter: the customers with a matching case in the period (a join with the distinct customers,
    # not IN: PostgreSQL without fresh statistics planned IN here as a loop, 9 s at 20,000 cases).
    people = select(f.contact_id).where(*conditions(scope), f.contact_id.is_not(None)).distinct().subquery()
    later = select(f.contact_id, *[func.sum(case((f.opened_day > e, col), else_=0.0)).label(f"{name}{i}")
                                   for i, e in enumerate(ends) for name, col in (("a", f.adv_w), ("d", f.det_w))]) \
        .where(f.opened_day > ends[2])  # by day (the NULL group joins nothing)
    if filtered:
        later = later.where(f.contact_id.in_(select(people.c.contact_id)))
    later = later.group_by(f.contact_id).subquery()
    reach = 1 + func.log10(1 + func.coalesce(Contact.followers, 0)) / 4
    nets = []
    for i, k in enumerate(ks):
        adv = c.adv_w - func.coalesce(later.c[f"a{i}"], 0.0)
        det = c.det_w - func.coalesce(later.c[f"d{i}"], 0.0)
        # Each side rounded to 4 places, as advocacy's Standing (in floating point: NUMERIC was 4x slower).
        nets.append((func.round(adv * reach * (k * 10000)) / 10000.0 - func.round(det * reach * (k * 10000)) / 10000.0)
                    .label(f"net{i}"))
    q = select(c.contact_id, func.coalesce(Contact.followers, 0).label("followers"), *nets) \
        .join(Contact, Contact.id == c.contact_id).outerjoin(later, later.c.contact_id == c.contact_id)
    if filtered:
        q = q.join(people, people.c.contact_id == c.contact_id)
    return q.cte("nets").prefix_with("MATERIALIZED")


def _read(session: Session, scope: Scope, limit: int) -> tuple[dict, list[int], list[int], list[tuple]]:
    """(counts, advocate candidates, detractor candidates, changed-side rows) in one statement."""
    n = _nets(scope)
    t = THRESHOLD

    def side(net, name: str):
        return net >= t if name == "advocate" else net <= -t

    def count(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    counts = [count(side(n.c.net0, "advocate")), count(side(n.c.net0, "detractor")),
              count(and_(side(n.c.net0, "advocate"), side(n.c.net1, "detractor"))),
              count(and_(side(n.c.net0, "detractor"), side(n.c.net1, "advocate"))),
              count(side(n.c.net1, "advocate")), count(side(n.c.net1, "detractor")),
              count(and_(side(n.c.net1, "advocate"), side(n.c.net2, "detractor"))),
              count(and_(side(n.c.net1, "detractor"), side(n.c.net2, "advocate")))]
    parts = [select(literal("count").label("what"), literal(0).label("contact_id"), *[
        v.label(f"v{i}") for i, v in enumerate(counts)])]

    def listing(what: str, cond, order, size: int):
        inner = select(literal(what).label("what"), n.c.contact_id, n.c.net0, n.c.net1, n.c.followers,
                       *[literal(0).label(f"x{i}") for i in range(5)]).where(cond).order_by(*order).limit(size)
        return inner.subquery().select()

    if limit > 0:
        # A few past the limit, so that ties at the limit are all seen (advocacy orders ties by recency).
        parts.append(listing("advocate", side(n.c.net0, "advocate"), [n.c.net0.desc(), n.c.contact_id], limit + 10))
        parts.append(listing("detractor", side(n.c.net0, "detractor"), [n.c.net0, n.c.contact_id], limit + 10))
        changed = or_(and_(side(n.c.net0, "advocate"), side(n.c.net1, "detractor")),
                      and_(side(n.c.net0, "detractor"), side(n.c.net1, "advocate")))
        parts.append(listing("moved", changed, [case((side(n.c.net0, "advocate"), 0), else_=1),
                                                 n.c.followers.desc(), n.c.contact_id], limit * 2))
    out: dict = {}
    adv, det, moved = [], [], []
    for row in session.connection().execute(union_all(*parts) if len(parts) > 1 else parts[0]):
        if row[0] == "count":
            out = dict(zip(("advocate_count", "detractor_count", "turned_advocate", "turned_detractor",
                            "before_advocate_count", "before_detractor_count", "before_turned_advocate",
                            "before_turned_detractor"), (int(v) for v in row[2:]), strict=True))
        elif row[0] == "advocate":
            adv.append((row[1], float(row[2])))
        elif row[0] == "detractor":
            det.append((row[1], float(row[2])))
        else:
            moved.append((row[1], float(row[2]), float(row[3])))
    return out, _cut(adv, limit, -1), _cut(det, limit, 1), moved


def _cut(rows: list[tuple[int, float]], limit: int, direction: int) -> list[int]:
    """The candidates for the top `limit`: every one whose net ties or beats the limit-th."""
    rows.sort(key=lambda r: (direction * r[1], r[0]))
    if len(rows) <= limit:
        return [r[0] for r in rows]
    bar = rows[limit - 1][1]
    return [cid for cid, net in rows if direction * net <= direction * bar]


def _standings(session: Session, scope: Scope, ids: list[int]) -> dict[int, Standing]:
    """Full standings (counts, last message) at the end of the period, for the few customers shown."""
    if not ids:
        return {}
    f = CaseFacts
    at = moment(scope, scope.end)
    rows = session.execute(select(f.contact_id, func.sum(f.adv_w), func.sum(f.det_w), func.sum(f.adv_n),
                                  func.sum(f.det_n), func.sum(f.recommendations), func.max(f.signal_at),
                                  func.max(Contact.followers))
                           .join(Contact, Contact.id == f.contact_id)
                           .where(f.contact_id.in_(ids), f.opened_day <= scope.end.isoformat())
                           .group_by(f.contact_id))
    k = _factor(at)
    return {r[0]: _standing(r[0], *r[1:7], r[7], k) for r in rows}


def _standing(cid: int, adv_w, det_w, pos, neg, rec, last, followers: int, factor: float) -> Standing:
    factor *= reach_factor(followers)
    return Standing(cid, round(float(adv_w or 0) * factor, 4), round(float(det_w or 0) * factor, 4), int(pos or 0),
                    int(neg or 0), int(rec or 0), int(followers or 0), last)


def rankings(session: Session, scope: Scope, limit: int = 10) -> tuple[dict, dict]:
    """(this period's ranking, the previous period's counts) — see `advocacy_ranking`."""
    counts, adv_ids, det_ids, moved_rows = _read(session, scope, limit)
    full = _standings(session, scope, sorted({*adv_ids, *det_ids, *(r[0] for r in moved_rows)}))
    advocates, _ = order(full[i] for i in adv_ids if i in full)
    _, detractors = order(full[i] for i in det_ids if i in full)
    names = {cid: display_name(name, handle, default=f"contact {cid}") for cid, name, handle in session.execute(
        select(Contact.id, Contact.name, Contact.handle).where(Contact.id.in_(sorted(full) or [-1])))}

    def row(s: Standing, before: str | None = None) -> dict:
        return {"contact_id": s.contact_id, "name": names.get(s.contact_id, "unknown"), "followers": s.followers,
                "positive": s.positive, "negative": s.negative, "recommendations": s.recommendations,
                "advocacy": round(s.advocacy, 2), "detraction": round(s.detraction, 2), "net": round(s.net, 2),
                "last_at": s.last_at, "side": s.status, "was": before}

    moved = [row(full[cid], status_of(net1)) for cid, _net0, net1 in moved_rows if cid in full]
    current = {"advocates": [row(s) for s in advocates[:limit]], "detractors": [row(s) for s in detractors[:limit]],
               "advocate_count": counts["advocate_count"], "detractor_count": counts["detractor_count"],
               "moved": moved, "turned_advocate": counts["turned_advocate"],
               "turned_detractor": counts["turned_detractor"]}
    previous = {"advocates": [], "detractors": [], "moved": [],
                **{k: counts[f"before_{k}"] for k in ("advocate_count", "detractor_count", "turned_advocate",
                                                      "turned_detractor")}}
    return current, previous


def advocacy_ranking(session: Session, scope: Scope, limit: int = 10) -> dict:
    """The top advocates and detractors (advocacy/ranking.order: strongest net first, then the most recent),
    how many of each, and who changed side (advocate <-> detractor) since the end of the previous period."""
    return rankings(session, scope, limit)[0]
