"""A filtered report's advocacy counts that can be read from the advocate side alone: how many of the customers
with a matching case in the period are advocates, turned advocate or turned detractor (reports/ranking.py).

`ranking.read` counted a filtered report's customers one by one (`_nets`: each customer with a matching case in
the period, their rows by day read by key; now only with a product or tag filter, a team's and a channel's are
index ranges: reports/matches.py), which grows with the period: at full size a team's objective on "turned
advocate" over 320 days read ~40,000 customers, half of the coordinator's report (bench/README.md, stop 30).
Few customers are advocates, so these three counts start from the advocates' keys instead, as the unfiltered
`by_days` does (the rows valid at an end whose key says advocate; a key within BAND of the moment read exactly;
who changed side from the pairs of rows begun between the ends), and look up each one's matching case by key. The
detractors are most customers of a large set: their count stays with `ranking.read`. (Still the path of a
product's or a tag's objective; a team's reads a few advocates here where `ranking.read` would scan its ranges.)
"""

from __future__ import annotations

from sqlalchemy import Float, String, and_, bindparam, exists, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from onevoice.advocacy.ranking import THRESHOLD
from onevoice.contacts.models import Contact
from onevoice.reports import built
from onevoice.reports.built import once, values
from onevoice.reports.metrics import Scope
from onevoice.reports.models import CaseFacts, ContactDay
from onevoice.reports.ranking import BAND, covering, end_params, reach, rounded_net, valid_at

# The counts read here (the others of a filtered report need every customer: `ranking.read`).
COUNTS = frozenset({"advocate_count", "turned_advocate", "turned_detractor"})


def counts(session: Session, scope: Scope) -> dict[str, int]:
    """COUNTS for a filtered scope's customers, equal to `ranking.read`'s (tests/reports/test_upkeep.py)."""
    params, hs = end_params(session, scope)
    params.update(built.bound(scope))
    shape = built.fact_shape(scope)
    ended = bool(params["ended0"])
    stmt = once(("advocate_side", ended, *shape), lambda: _statement(ended, shape))
    out = dict.fromkeys(COUNTS, 0)
    for what, _cid, a, b in session.connection().execute(stmt, params):
        if what == "count":
            out["advocate_count"] += int(a)
        elif what == "band":
            if hs[0] - BAND <= float(b) < hs[0] + BAND and float(a) >= THRESHOLD:
                out["advocate_count"] += 1
        elif float(a) >= THRESHOLD and float(b) <= -THRESHOLD:  # moved: net now, net at the previous end
            out["turned_advocate"] += 1
        elif float(a) <= -THRESHOLD and float(b) >= THRESHOLD:
            out["turned_detractor"] += 1
    return out


def _statement(ended: bool, shape: tuple):
    """`by_days`' advocate-side parts for this period's end (:e0) against the previous one's (:e1), each with
    the customer's matching case in the period (built.fact_conditions, looked up by the customer's key)."""
    r, r2, f = ContactDay, aliased(ContactDay), CaseFacts
    e = [bindparam(f"e{i}", type_=String) for i in range(2)]
    ks = [bindparam(f"k{i}", type_=Float) for i in range(2)]
    lo = [bindparam(f"lo{i}", type_=Float) for i in range(2)]
    hi = [bindparam(f"hi{i}", type_=Float) for i in range(2)]
    reached = reach(Contact.followers)
    matching = exists().where(f.contact_id == r.contact_id, *built.fact_conditions(f, *shape))

    def net(row, k):
        return rounded_net(row.adv_w, row.det_w, reached, k)

    def valid(row, i: int, days=None):
        return valid_at(row, e[i], days if days is not None else values(f"after{i}"))

    def at(row, i: int):
        return covering(row, e[i])

    def rows(what: str, columns: list, where, pair: bool = False):
        q = select(literal(what).label("what"), r.contact_id, *columns).join(Contact, Contact.id == r.contact_id)
        if pair:
            q = q.join(r2, r2.contact_id == r.contact_id)
        return q.where(where, matching).subquery().select()

    sure = select(func.count()).select_from(r).where(valid(r, 0), r.adv_until >= hi[0], matching).scalar_subquery()
    parts = [select(literal("count").label("what"), literal(0).label("contact_id"), sure, literal(0.0)),
             rows("band", [net(r, ks[0]), r.adv_until], and_(valid(r, 0), r.adv_until.between(lo[0], hi[0]))),
             # Advocate now, detractor at the previous end: an advocate's row now begun after it, and their row then.
             rows("moved", [net(r, ks[0]), net(r2, ks[1])], and_(
                 valid(r, 0), r.adv_until >= lo[0], r.from_day > e[1], at(r2, 1), r2.det_until >= lo[1]), pair=True)]
    if ended:  # advocate at the previous end, detractor now: their row then ended by now, and their row now
        parts.append(rows("moved", [net(r2, ks[0]), net(r, ks[1])], and_(
            valid(r, 1, values("ended0")), r.adv_until >= lo[1], at(r2, 0), r2.det_until >= lo[0]), pair=True))
    return union_all(*parts)
