"""Advocates and detractors in the reports: the advocacy feature's rule (advocacy/ranking.py), read from
the reports' kept facts.

A customer's standing is the one /advocacy shows: their inbound messages weighed by age (half-life 90 days),
recommendations and complaints counted extra, multiplied by their reach; advocate at a net of +1 or more,
detractor at -1 or less. The facts keep each case's part of that sum (reports/facts.py `signals`, as
2^(time since SIGNAL_EPOCH / half-life)), so a standing at any moment is one SUM per customer times one
factor, with no message read. The report's standing is taken at the end of its period (now, for a period that
ends today): the sums of the cases opened by that day. "Changed side" compares it with the standing at the end
of the previous period. Every customer is counted from their rows by day (ContactDay: their sums as of each day a
case of theirs opened, and the keys `until` of those sums: `by_days`, index ranges); with a team or a channel
filter (or both), the same ranges, the rows of the customers with a matching case in the period only (the rows
keep which teams and channels their cases had: reports/matches.py); with a product or tag filter, those
customers are read one by one (`_nets`: the same rows by day of those customers, each read by its key).
Docs: docs/metrics.md, "Advocates and detractors".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, time, timedelta

from sqlalchemy import Float, String, and_, bindparam, case, func, literal, or_, select, true, union_all
from sqlalchemy.orm import Session, aliased

from onevoice.advocacy.ranking import THRESHOLD, Standing, order, reach_factor, status_of
from onevoice.contacts.models import Contact
from onevoice.contacts.names import display_name
from onevoice.reports import built, matches
from onevoice.reports.built import once, values
from onevoice.reports.facts import HALF_LIFE_S, SIGNAL_EPOCH
from onevoice.reports.metrics import Scope
from onevoice.reports.models import LAST_DAY, CaseFacts, ContactDay


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


def days(cases: Iterable[tuple[str, float | None, float | None, int | None, int | None]],
         followers: int | None) -> list[dict]:
    """A customer's rows of report_contact_days from their cases' (opened_day, adv_w, det_w, lead_team_id,
    channel_id) in (opened_day, case id) order: per day a case of theirs opened, the sums of their cases opened
    on or before it (added in that order: the upkeep and the rebuild get the same floats), valid until the next
    such day, the keys of those sums (`until`; none for a contact that no longer exists, `followers` None), and
    which teams and channels their cases had by then and have next (matches.texts)."""
    out: list[dict] = []
    adv = det = 0.0
    firsts: list[str] = []
    row_keys: list[list[str]] = []
    for day, a, d, team, channel in cases:
        adv += float(a or 0.0)
        det += float(d or 0.0)
        if out and out[-1]["from_day"] == day:
            out[-1].update(adv_w=adv, det_w=det)
        else:
            if out:
                out[-1]["to_day"] = day
            out.append({"from_day": day, "to_day": LAST_DAY, "adv_w": adv, "det_w": det})
            firsts.append(day)
            row_keys.append([])
        row_keys[-1].extend(matches.keys(team, channel))
    kept = matches.texts(firsts, row_keys)
    for row, (last, after) in zip(out, kept, strict=True):
        row["adv_until"], row["det_until"] = until(row["adv_w"], row["det_w"], followers) \
            if followers is not None else (None, None)
        row["keys_last"], row["keys_next"] = last, after
    return out


def reach(followers):
    """The reach factor of advocacy's rule (`reach_factor`) in SQL, of a followers column."""
    return 1 + func.log10(1 + func.coalesce(followers, 0)) / 4


def rounded_net(adv, det, reached, k):
    """A standing at a moment (the decay times 10,000 bound as `k`): each side rounded to 4 places, as advocacy's
    Standing (in floating point: NUMERIC was 4x slower)."""
    return func.round(adv * reached * k) / 10000.0 - func.round(det * reached * k) / 10000.0


def valid_at(row, end, days):
    """A customer's row of report_contact_days valid at `end`, by one of the days it can end on (`days`, an IN
    list: each is one range of the day indexes) and begun by then."""
    return and_(row.to_day.in_(days), row.from_day <= end)


def covering(row, end):
    """The row of a customer valid at `end`, found by the primary key (a range of to_day: as `valid_at`'s IN
    list, SQLite would start from that side, every customer's row valid then)."""
    return and_(row.from_day <= end, row.to_day > end)


def _nets(shape: tuple, shard: tuple[int, int], dialect: str):
    """Per customer counted by a filtered report (those with a matching case in the period): their net
    standing at the end of the period (net0), of the previous period (net1) and of the one before that (net2),
    as one materialized CTE. A standing at a moment is the sums of the customer's row by day valid then
    (ContactDay: the sums of their cases opened on or before that day; none: nothing yet), times the decay and
    the reach, as `by_days` reads them for every customer. Each customer's rows and followers are read by
    their key: reading their kept sums less their cases of the last two periods read every case of those
    periods (52,500 at full size) and every customer's followers. `shard` (k, m): only the customers whose id
    is k modulo m. Built once per `shape` (built.fact_shape), shard and dialect: the ends are bound as :e0-2,
    each end's decay times 10,000 as :k0-2, the filters as built.bound gives them."""
    d, f = ContactDay, CaseFacts
    ends = [bindparam(f"e{i}", type_=String) for i in range(3)]
    ks = [bindparam(f"k{i}", type_=Float) for i in range(3)]
    # With a filter: the customers with a matching case in the period (a join with the distinct customers,
    # not IN: PostgreSQL without fresh statistics planned IN here as a loop, 9 s at 20,000 cases).
    people = select(f.contact_id).where(*built.fact_conditions(f, *shape), f.contact_id.is_not(None))
    if shard[1] > 1:
        people = people.where(f.contact_id % shard[1] == shard[0])
    people = people.distinct().subquery()
    who = people.c.contact_id
    # Their rows valid at one of the ends (each end has at most one): begun by the last end, ended after the first.
    valid = and_(d.contact_id == who, d.from_day <= ends[0], d.to_day > ends[2])
    sides = [func.max(case((and_(d.from_day <= e, d.to_day > e), col))).label(f"{name}{i}")
             for i, e in enumerate(ends) for name, col in (("a", d.adv_w), ("d", d.det_w))]
    if dialect == "postgresql":
        # Looked up per customer (LATERAL): joined, PostgreSQL hashed every row by day and every contact
        # (150,000 each at full size) for Support's 7,501 customers, 110 ms of server CPU where these are ~7,500
        # look-ups of two short index ranges. SQLite looks them up so by itself (and has no LATERAL).
        sums = select(*sides).where(valid).lateral("sums")
        # (LIMIT 1: one row by the key anyway, but a plain one would be made a join again, and hashed.)
        reached = select(Contact.followers).where(Contact.id == who).limit(1).lateral("reached")
        key, followers = who, reached.c.followers
        joined = people.join(sums, true()).join(reached, true())
    else:
        sums = select(who, *sides).join(d, valid).group_by(who).subquery()
        key, followers = sums.c.contact_id, Contact.followers
        joined = sums.join(Contact, Contact.id == sums.c.contact_id)
    reached = reach(followers)
    nets = [rounded_net(func.coalesce(sums.c[f"a{i}"], 0.0), func.coalesce(sums.c[f"d{i}"], 0.0), reached, k)
            .label(f"net{i}") for i, k in enumerate(ks)]
    q = select(key, func.coalesce(followers, 0).label("followers"), *nets).select_from(joined)
    return q.cte("nets").prefix_with("MATERIALIZED")


def read(session: Session, scope: Scope, limit: int = 10, shard: tuple[int, int] = (0, 1)) -> tuple:
    """(counts, advocates, detractors, changed-side rows) of the customers of `shard` (k, m: ids k modulo m)
    in one statement; `merged` puts shards together. Unfiltered, every customer is read from their kept
    rows by day (`by_days`: all of it in the first shard)."""
    if not scope.filtered or matches.wanted(scope) is not None:
        return by_days(session, scope, limit) if shard[0] == 0 else ({k: 0 for k in COUNTS}, [], [], [])
    dialect, shape = session.get_bind().dialect.name, built.fact_shape(scope)
    prev = scope.previous()
    ends = (scope.end, prev.end, prev.previous().end)
    params = {**built.bound(scope), **{f"e{i}": end.isoformat() for i, end in enumerate(ends)},
              **{f"k{i}": _factor(moment(scope, end)) * 10000 for i, end in enumerate(ends)}}
    stmt = built.once(("read", dialect, shard, limit, *shape), lambda: _read(shape, shard, dialect, limit))
    out: dict = {}
    adv, det, moved = [], [], []
    for row in session.connection().execute(stmt, params):
        what = row[0]
        if what == "count":
            out = dict(zip(COUNTS, (int(v) for v in row[2:]), strict=True))
        elif what == "advocate":
            adv.append((row[1], float(row[2])))
        elif what == "detractor":
            det.append((row[1], float(row[2])))
        else:
            moved.append((row[1], float(row[2]), float(row[3]), int(row[4])))
    return out, adv, det, moved


def _read(shape: tuple, shard: tuple[int, int], dialect: str, limit: int):
    """`read`'s statement for a filtered report (built.once): the counts and, with a `limit`, the lists."""
    n = _nets(shape, shard, dialect)
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
    return union_all(*parts) if len(parts) > 1 else parts[0]


def _last_to_day(session: Session) -> str | None:
    """The last day any row of report_contact_days ends on (before LAST_DAY): the same for the three ends
    of a report (read once; it was read once per end)."""
    r = ContactDay
    stmt = once(("last_to_day",), lambda: select(r.to_day).where(r.to_day < LAST_DAY).order_by(r.to_day.desc())
                .limit(1))
    return session.connection().execute(stmt).scalar()


def _after(last: str | None, end) -> list[str]:
    """Every to_day a row valid at the end of day `end` can have: the days after it up to the last one any
    row ends on (`last`), and LAST_DAY (an IN list: each is one range of the day indexes, where `to_day > end`
    would walk every customer's last row)."""
    out, day = [LAST_DAY], end + timedelta(days=1)
    while last is not None and day.isoformat() <= last:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def end_params(session: Session, scope: Scope) -> tuple[dict, list[float]]:
    """The values `by_days`' statement binds for a scope's three ends (this period's, the previous one's and
    the one before), and each end's moment in half-lives."""
    prev = scope.previous()
    ends = [scope.end, prev.end, prev.previous().end]
    e = [d.isoformat() for d in ends]
    hs = [_half_lives(moment(scope, d)) for d in ends]
    ks = [_factor(moment(scope, d)) for d in ends]
    last = _last_to_day(session)
    after = [_after(last, d) for d in ends]
    params: dict = {}
    for i in (0, 1, 2):
        params.update({f"e{i}": e[i], f"after{i}": after[i], f"k{i}": ks[i] * 10000,
                       f"lo{i}": hs[i] - BAND, f"hi{i}": hs[i] + BAND})
    ended = {i: [d for d in after[j] if d <= e[i]] for i, j in ((0, 1), (1, 2))}
    params.update({"ended0": ended[0], "ended1": ended[1], "tail0": after[0][1:], "last_day": [LAST_DAY]})
    return params, hs


def by_days(session: Session, scope: Scope, limit: int) -> tuple:
    """`read` for every customer (unfiltered), from their rows by day (ContactDay): the row valid at a
    period's end holds their sums then, so each count is an index range of the keys (`until`) of the rows
    valid then; a key within BAND of the moment is read exactly. Who changed side between two ends has a row
    begun between them (decay alone never crosses from one side to the other): read in pairs from the advocate
    side (the advocates at the later end whose row began after the earlier one; the advocates at the earlier
    end whose row ended by the later one), exactly. The statement is built once per shape (`_by_days`)."""
    params, hs = end_params(session, scope)
    # With a team or channel filter, only the rows of customers with a matching case in the period (matches.py).
    wanted = len(matches.wanted(scope) or ()) if scope.filtered else 0
    if wanted:
        params.update(matches.bound(scope))
    shape = (bool(params["ended0"]), bool(params["ended1"]), bool(params["tail0"]), limit, wanted,
             session.get_bind().dialect.name if wanted else "")
    stmt = once(("by_days", *shape), lambda: _by_days(*shape))
    sides = [0, 0, 0, 0]  # advocates and detractors at this period's end, then at the previous one's
    turned = [0, 0, 0, 0]  # turned advocate, turned detractor: in this period, then in the previous one
    adv, det, moved = [], [], []
    for row in session.connection().execute(stmt, params):
        what = row[0]
        if what == "count":
            sides = [int(v) for v in row[2:6]]
        elif what.startswith("band"):
            i, n, key = int(what[4]), float(row[2]), float(row[3])
            if hs[i] - BAND <= key < hs[i] + BAND:
                sides[2 * i] += n >= THRESHOLD
                sides[2 * i + 1] += n <= -THRESHOLD
        elif what.startswith("moved"):
            i, later, earlier = int(what[5]), float(row[2]), float(row[3])
            if later >= THRESHOLD and earlier <= -THRESHOLD:
                turned[2 * i] += 1
            elif later <= -THRESHOLD and earlier >= THRESHOLD:
                turned[2 * i + 1] += 1
            else:
                continue
            if i == 0:
                moved.append((row[1], later, earlier, int(row[5])))
        elif what == "advocate":
            if float(row[2]) >= THRESHOLD:
                adv.append((row[1], float(row[2])))
        elif float(row[2]) <= -THRESHOLD:
            det.append((row[1], float(row[2])))
    counts = dict(zip(COUNTS, (*sides[:2], *turned[:2], *sides[2:], *turned[2:]), strict=True))
    return counts, adv, det, moved


def _by_days(ended0: bool, ended1: bool, tail0: bool, limit: int, wanted: int = 0, dialect: str = ""):
    """`by_days`' statement with its values bound (built once per shape, `built.once`): the ends :e0-:e2, the
    days a row valid at each can end on (:after0-2; those of the earlier end up to the later one, :ended0-1;
    :tail0 the days after the end but LAST_DAY), each end's decay times 10,000 (:k0-2) and the moment's
    half-lives less and plus BAND (:lo0-2, :hi0-2). With `wanted` keys (a filtered report, matches.bound):
    only the customers with a matching case in the period, told by their row valid at this period's end
    (`matches.since`) or at the previous one's (`matches.until`: such a row ends in the period, :ended0)."""
    r, r2 = ContactDay, aliased(ContactDay)
    e = [bindparam(f"e{i}", type_=String) for i in range(3)]
    ks = [bindparam(f"k{i}", type_=Float) for i in range(3)]
    lo = [bindparam(f"lo{i}", type_=Float) for i in range(3)]
    hi = [bindparam(f"hi{i}", type_=Float) for i in range(3)]
    after = [values(f"after{i}") for i in range(3)]
    reached = reach(Contact.followers)

    def net(row, k):
        return rounded_net(row.adv_w, row.det_w, reached, k)

    def valid(row, i: int, days=None):
        if days is None:
            days = values("ended0") if wanted and i == 1 else after[i]
        return valid_at(row, e[i], days)

    def at(row, i: int):
        return covering(row, e[i])

    def counted(row, i: int):
        """The customer of `row` (valid at end i, 0 or 1) is counted by the report."""
        if not wanted:
            return true()
        return matches.since(row, wanted, dialect) if i == 0 else matches.until(row, wanted, dialect)

    def sure(col, i):
        return select(func.count()).select_from(r).where(valid(r, i), col >= hi[i], counted(r, i)).scalar_subquery()

    def rows(what: str, columns: list, where, pair: bool = False, order=None, size: int | None = None):
        q = select(literal(what).label("what"), r.contact_id, *columns,
                   func.coalesce(Contact.followers, 0).label("followers")).join(Contact, Contact.id == r.contact_id)
        if pair:
            q = q.join(r2, r2.contact_id == r.contact_id)
        q = q.where(where)
        return (q.order_by(*order).limit(size) if order is not None else q).subquery().select()

    parts = [select(literal("count").label("what"), literal(0).label("contact_id"),
                    *[sure(col, i) for i in (0, 1) for col in (r.adv_until, r.det_until)])]
    for i in (0, 1):
        for col in (r.adv_until, r.det_until):
            parts.append(rows(f"band{i}", [net(r, ks[i]), col, literal(0.0)],
                              and_(valid(r, i), col.between(lo[i], hi[i]), counted(r, i))))
    for (i, j), ended in zip(((0, 1), (1, 2)), (ended0, ended1), strict=True):
        # (the later end, the earlier end): columns net at i, net at j
        # Advocate at i, detractor at j: an advocate's row at i begun after j, and their row at j.
        parts.append(rows(f"moved{i}", [net(r, ks[i]), net(r2, ks[j]), literal(0.0)], and_(
            valid(r, i), r.adv_until >= lo[i], r.from_day > e[j], at(r2, j), r2.det_until >= lo[j],
            counted(r, i)), pair=True))
        # Advocate at j, detractor at i: an advocate's row at j that ended by i, and their row at i.
        if ended:
            parts.append(rows(f"moved{i}", [net(r2, ks[i]), net(r, ks[j]), literal(0.0)], and_(
                valid(r, j, values(f"ended{i}")), r.adv_until >= lo[j], at(r2, i), r2.det_until >= lo[i],
                counted(r, 1) if i == 0 else counted(r2, 1)), pair=True))
    if limit > 0:
        # A few past the limit, so that ties at the limit are all seen (advocacy orders ties by recency); the
        # last rows apart from the earlier ones, so that each is read in its keys' order from the index.
        for what, col in (("advocate", r.adv_until), ("detractor", r.det_until)):
            for days in ("last_day", "tail0" if tail0 else None):
                if days:
                    parts.append(rows(what, [net(r, ks[0]), literal(0.0), literal(0.0)],
                                      and_(valid(r, 0, values(days)), col >= lo[0], counted(r, 0)),
                                      order=[col.desc(), r.contact_id], size=limit + 10))
    return union_all(*parts)


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
    rows = session.connection().execute(once(("standings",), lambda: select(
        f.contact_id, func.sum(f.adv_w), func.sum(f.det_w), func.sum(f.adv_n), func.sum(f.det_n),
        func.sum(f.recommendations), func.max(f.signal_at), func.max(Contact.followers))
        .join(Contact, Contact.id == f.contact_id)
        .where(f.contact_id.in_(values("ids")), f.opened_day <= bindparam("end")).group_by(f.contact_id)),
        {"ids": ids, "end": scope.end.isoformat()})
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
    named = once(("names",), lambda: select(Contact.id, Contact.name, Contact.handle)
                 .where(Contact.id.in_(values("ids"))))
    people = {cid: (display_name(name, handle, default=f"contact {cid}"), handle) for cid, name, handle in
              session.connection().execute(named, {"ids": sorted(full) or [-1]})}

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
