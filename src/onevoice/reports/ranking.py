"""Advocates and detractors in the reports: the advocacy feature's rule (advocacy/ranking.py), read from
the reports' kept facts.

A customer's standing is the one /advocacy shows: their inbound messages weighed by age (half-life 90 days),
recommendations and complaints counted extra, multiplied by their reach; advocate at a net of +1 or more,
detractor at -1 or less. The facts keep each case's part of that sum (reports/facts.py `signals`, as
2^(time since SIGNAL_EPOCH / half-life)), so a standing at any moment is one SUM per customer times one
factor, with no message read; per customer those sums are kept too (ContactSignals). Only the customers
with a case after the end of the period before the previous one are read one by one (`_nets`); for the
others the kept sums are the standing at every moment read, and their keys (`until`: until when those sums
keep them on a side) make each count an index range (`_quiet`). The report's standing is taken at the end
of its period (now, for a period that ends today): the kept sums less the cases opened after that day.
"Changed side" compares it with the standing at the end of the previous period. The customers counted:
every customer (as /advocacy), or with a team, channel, product or tag filter, those with a matching case
in the period.
Docs: docs/metrics.md, "Advocates and detractors".
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta

from sqlalchemy import Integer, and_, case, cast, func, literal, literal_column, or_, select, union_all
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


def _half_lives(at: datetime) -> float:
    return (at - SIGNAL_EPOCH).total_seconds() / HALF_LIFE_S


def _factor(at: datetime) -> float:
    return 0.5 ** _half_lives(at)


# Below this |advocacy - detraction| x reach a customer is on neither side at any moment after SIGNAL_EPOCH
# (the standing is at most that much, plus rounding): no key, and kept and rebuilt sums that differ by
# floating-point noise around zero cannot give one a key and the other none.
BALANCED = 1e-6
# The rounding of each side to 4 places moves a standing by at most 1e-4, so a key within this many
# half-lives of the moment (2^0.001 - 1 = 6.9e-4 of the standing) is read exactly, never decided by the key.
BAND = 1e-3


def until(adv_w: float, det_w: float, followers: int | None) -> tuple[float | None, float | None]:
    """(adv_until, det_until): the moment, in half-lives since SIGNAL_EPOCH, up to which these kept sums make
    the customer an advocate (or a detractor). The standing at h is (adv_w - det_w) x reach x 2^-h, at least
    1 while h <= log2((adv_w - det_w) x reach)."""
    x = (float(adv_w or 0) - float(det_w or 0)) * reach_factor(followers or 0)
    if abs(x) < BALANCED:
        return None, None
    return (math.log2(x), None) if x > 0 else (None, math.log2(-x))


def _nets(scope: Scope, shard: tuple[int, int]):
    """Per customer: their net standing at the end of the period (net0), of the previous period (net1) and of
    the one before that (net2), as one materialized CTE. A standing at a moment is the customer's kept sums
    (ContactSignals) less their cases opened after it, times the decay and the reach. `shard` (k, m): only
    the customers whose id is k modulo m (m > 1: the parts read at once on PostgreSQL, `rankings`)."""
    c, f = ContactSignals, CaseFacts
    prev = scope.previous()
    ends = [scope.end.isoformat(), prev.end.isoformat(), prev.previous().end.isoformat()]
    ks = [_factor(moment(scope, day)) for day in (scope.end, prev.end, prev.previous().end)]
    # With a filter: the customers with a matching case in the period (a join with the distinct customers,
    # not IN: PostgreSQL without fresh statistics planned IN here as a loop, 9 s at 20,000 cases).
    people = select(f.contact_id).where(*conditions(scope), f.contact_id.is_not(None)).distinct().subquery()
    # Grouped by contact_id + 0: SQLite (no statistics on the facts) otherwise walks the whole table by the
    # customer index to group without sorting, 300,000 rows at full size where the day index reads only the
    # last periods' cases.
    who = cast(f.contact_id + literal_column("0"), Integer).label("contact_id")
    later = select(who, *[func.sum(case((f.opened_day > e, col), else_=0.0)).label(f"{name}{i}")
                                   for i, e in enumerate(ends) for name, col in (("a", f.adv_w), ("d", f.det_w))]) \
        .where(f.opened_day > ends[2])  # by day (the NULL group joins nothing)
    if filtered(scope):
        later = later.where(f.contact_id.in_(select(people.c.contact_id)))
    if shard[1] > 1:
        later = later.where(f.contact_id % shard[1] == shard[0])
    later = later.group_by(who).subquery()
    reach = 1 + func.log10(1 + func.coalesce(Contact.followers, 0)) / 4
    nets = []
    for i, k in enumerate(ks):
        adv = c.adv_w - func.coalesce(later.c[f"a{i}"], 0.0)
        det = c.det_w - func.coalesce(later.c[f"d{i}"], 0.0)
        # Each side rounded to 4 places, as advocacy's Standing (in floating point: NUMERIC was 4x slower).
        nets.append((func.round(adv * reach * (k * 10000)) / 10000.0 - func.round(det * reach * (k * 10000)) / 10000.0)
                    .label(f"net{i}"))
    # Only the customers with a case after the third period's end: the others' standing is their kept sums
    # at every moment read here, counted by their keys (`_quiet`). With a filter, every customer counted has
    # a case in the period, so all are here.
    q = select(c.contact_id, func.coalesce(Contact.followers, 0).label("followers"), *nets,
               c.adv_until.label("au"), c.det_until.label("du")) \
        .join(Contact, Contact.id == c.contact_id).join(later, later.c.contact_id == c.contact_id)
    if filtered(scope):
        q = q.join(people, people.c.contact_id == c.contact_id)
    return q.cte("nets").prefix_with("MATERIALIZED")


def filtered(scope: Scope) -> bool:
    return bool(scope.team_ids or scope.channel_id is not None or scope.product or scope.tag)


def _quiet(scope: Scope, n, limit: int, first: bool = True) -> list:
    """Statements for the customers with no case after the third period's end (every customer, unfiltered):
    their standing at the end of this period and of the previous one is their kept sums decayed, so each
    count is an index range of their keys (all keys in range less those of the customers in `n`); a key
    within BAND of a moment, and the few strongest shown, are read exactly. Not `first` (a later shard of
    `n`): only the subtraction of its own customers."""
    c, f = ContactSignals, CaseFacts
    prev = scope.previous()
    hs = [_half_lives(moment(scope, day)) for day in (scope.end, prev.end)]
    ks = [_factor(moment(scope, day)) for day in (scope.end, prev.end)]
    end2 = prev.previous().end.isoformat()
    recent = select(f.case_id).where(f.contact_id == c.contact_id, f.opened_day > end2).exists()

    def in_range(column, lo):
        return select(func.count()).select_from(c).where(column >= lo).scalar_subquery() if first else literal(0)

    def in_n(column, lo):
        return select(func.count()).select_from(n).where(column >= lo).scalar_subquery()

    sure = []
    for h in hs:
        sure += [in_range(c.adv_until, h + BAND) - in_n(n.c.au, h + BAND),
                 in_range(c.det_until, h + BAND) - in_n(n.c.du, h + BAND)]
    parts = [select(literal("quiet").label("what"), literal(0).label("contact_id"),
                    *[v.label(f"v{i}") for i, v in enumerate(sure)], *[literal(0).label(f"y{i}") for i in range(4)])]
    if not first:
        return [parts, hs]
    reach = 1 + func.log10(1 + func.coalesce(Contact.followers, 0)) / 4

    def net(k):
        return func.round(c.adv_w * reach * (k * 10000)) / 10000.0 - func.round(c.det_w * reach * (k * 10000)) / 10000.0

    def rows(what: str, where, order=None, size: int | None = None):
        q = select(literal(what).label("what"), c.contact_id, net(ks[0]).label("net0"), net(ks[1]).label("net1"),
                   func.coalesce(Contact.followers, 0).label("followers"), c.adv_until, c.det_until,
                   *[literal(0).label(f"x{i}") for i in range(3)]) \
            .join(Contact, Contact.id == c.contact_id).where(where, ~recent)
        if order is not None:
            q = q.order_by(*order).limit(size)
        return q.subquery().select()

    near = or_(*[col.between(h - BAND, h + BAND) for h in hs for col in (c.adv_until, c.det_until)])
    parts.append(rows("band", near))
    if limit > 0:
        parts.append(rows("q_advocate", c.adv_until >= hs[0] - BAND, [c.adv_until.desc(), c.contact_id], limit + 10))
        parts.append(rows("q_detractor", c.det_until >= hs[0] - BAND, [c.det_until.desc(), c.contact_id], limit + 10))
    return [parts, hs]


def read(session: Session, scope: Scope, limit: int = 10, shard: tuple[int, int] = (0, 1)) -> tuple:
    """(counts, advocates, detractors, changed-side rows) of the customers of `shard` (k, m: ids k modulo m;
    the quiet customers' counts and lists with k = 0) in one statement; `merged` puts shards together."""
    n = _nets(scope, shard)
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
    hs: list[float] = []
    if not filtered(scope):
        quiet, hs = _quiet(scope, n, limit, first=shard[0] == 0)
        parts += quiet
    out: dict = {}
    adv, det, moved = [], [], []
    sides = [0, 0, 0, 0]  # the quiet customers: advocates and detractors now, then at the previous end
    for row in session.connection().execute(union_all(*parts) if len(parts) > 1 else parts[0]):
        what = row[0]
        if what == "count":
            out = dict(zip(COUNTS, (int(v) for v in row[2:]), strict=True))
        elif what == "quiet":
            sides = [a + int(b) for a, b in zip(sides, row[2:6], strict=True)]
        elif what == "band":
            for i, h in enumerate(hs):
                net, au, du = float(row[2 + i]), row[5], row[6]
                if au is not None and h - BAND <= au < h + BAND:
                    sides[2 * i] += net >= THRESHOLD
                if du is not None and h - BAND <= du < h + BAND:
                    sides[2 * i + 1] += net <= -THRESHOLD
        elif what in ("advocate", "q_advocate"):
            if float(row[2]) >= THRESHOLD:
                adv.append((row[1], float(row[2])))
        elif what in ("detractor", "q_detractor"):
            if float(row[2]) <= -THRESHOLD:
                det.append((row[1], float(row[2])))
        else:
            moved.append((row[1], float(row[2]), float(row[3]), int(row[4])))
    for key, extra in zip(("advocate_count", "detractor_count", "before_advocate_count", "before_detractor_count"),
                          sides, strict=True):
        out[key] += extra
    return out, adv, det, moved


COUNTS = ("advocate_count", "detractor_count", "turned_advocate", "turned_detractor", "before_advocate_count",
          "before_detractor_count", "before_turned_advocate", "before_turned_detractor")


def merged(reads: list[tuple], limit: int) -> tuple[dict, list[int], list[int], list[tuple]]:
    """The shards' reads as one: counts summed, the candidates for the top `limit` of each side, and the
    changed-side rows in the statement's order (advocates first, then by followers, then id), 2 x limit."""
    counts = {k: sum(r[0][k] for r in reads) for k in COUNTS}
    adv = [row for r in reads for row in r[1]]
    det = [row for r in reads for row in r[2]]
    moved = sorted((row for r in reads for row in r[3]), key=lambda m: (0 if m[1] >= THRESHOLD else 1, -m[3], m[0]))
    return counts, _cut(adv, limit, -1), _cut(det, limit, 1), moved[:limit * 2]


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


def rankings(session: Session, scope: Scope, limit: int = 10, reads: list[tuple] | None = None) -> tuple[dict, dict]:
    """(this period's ranking, the previous period's counts) — see `advocacy_ranking`. `reads`: the shards'
    `read`s, made already in this snapshot (else one read here)."""
    counts, adv_ids, det_ids, moved_rows = merged(reads or [read(session, scope, limit)], limit)
    full = _standings(session, scope, sorted({*adv_ids, *det_ids, *(r[0] for r in moved_rows)}))
    advocates, _ = order(full[i] for i in adv_ids if i in full)
    _, detractors = order(full[i] for i in det_ids if i in full)
    people = {cid: (display_name(name, handle, default=f"contact {cid}"), handle) for cid, name, handle in
              session.execute(select(Contact.id, Contact.name, Contact.handle)
                              .where(Contact.id.in_(sorted(full) or [-1])))}

    def row(s: Standing, before: str | None = None) -> dict:
        # The handle beside the name: two customers called Lena Brown are two rows a reader must tell apart.
        name, handle = people.get(s.contact_id, ("unknown", None))
        return {"contact_id": s.contact_id, "name": name, "handle": handle, "followers": s.followers,
                "positive": s.positive, "negative": s.negative, "recommendations": s.recommendations,
                "advocacy": round(s.advocacy, 2), "detraction": round(s.detraction, 2), "net": round(s.net, 2),
                "last_at": s.last_at, "side": s.status, "was": before}

    moved = [row(full[cid], status_of(net1)) for cid, _net0, net1, _followers in moved_rows if cid in full]
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
