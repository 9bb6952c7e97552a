"""The figures of docs/metrics.md, computed over the per-day aggregates of a period.

Every function takes a `Scope` (period, filters, the teams the viewer may report on) and returns plain
dicts; the pages, the JSON API, the CSV exports and the digest all read these.

A period's figures are sums over the per-day tables (day x lead team x channel: ~days x teams x channels
rows, however many messages and cases there are), and a median or p90 is found in the day tables'
histograms, then read exactly from the one bucket that holds it (an index range of the facts). Product and
campaign-tag filters are not in the per-day key: with one of them, the figures are computed over the
period's case facts instead (`_..._by_case`, same definitions, index range scans).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, and_, bindparam, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from onevoice.cases.models import Incident
from onevoice.reports import built, months, team_customers
from onevoice.reports.aggregate import SERVICE_TIMES
from onevoice.reports.facts import OPEN
from onevoice.reports.models import (
    CaseFacts,
    ContactDay,
    DailyFacts,
    DailyTeam,
    DailyVolume,
    DayHistogram,
    TeamFacts,
)
from onevoice.reports.quantiles import exact_quantiles
from onevoice.reports.quantiles import median as _median


@dataclass(frozen=True)
class Scope:
    start: date
    end: date  # inclusive
    now: datetime
    team_ids: tuple[int, ...] = ()  # empty: every team
    channel_id: int | None = None
    product: str | None = None
    tag: str | None = None
    hourly_rate: float = 50.0
    limited: bool = False  # a manager: only their teams, whatever the filter says
    allowed_team_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Scope:
        """The period of the same length just before this one (the comparison)."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def day_bounds(self) -> tuple[str, str]:
        return self.start.isoformat(), self.end.isoformat()

    @property
    def filtered(self) -> bool:
        """A team, channel, product or tag narrows the cases (the customers' rows by day hold them all)."""
        return bool(self.team_ids or self.channel_id is not None or self.product or self.tag)


def conditions(scope: Scope, table=CaseFacts, lead_only: bool = True) -> list:
    lo, hi = scope.day_bounds()
    out = [table.opened_day >= lo, table.opened_day <= hi]
    teams = scope.team_ids
    if teams:
        out.append((table.lead_team_id if table is CaseFacts else table.team_id).in_(teams))
    if table is CaseFacts:
        if scope.channel_id is not None:
            out.append(CaseFacts.channel_id == scope.channel_id)
        if scope.product:
            out.append(CaseFacts.product == scope.product)
        if scope.tag:
            out.append(CaseFacts.tags.contains("," + scope.tag + ","))
    return out


def quantile(values: list[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least q of the values at or below it (docs/metrics.md)."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])


def _share(part: int | None, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole else None


def _service_by_case(session: Session, scope: Scope) -> dict:
    """Response and resolution times, SLA attainment, reopen rate and volume for cases opened in the period."""
    cond = conditions(scope)
    now = scope.now
    f = CaseFacts
    fr_missed = or_(f.first_response_met == 0, and_(f.first_response_met.is_(None), f.first_response_due < now))
    res_missed = or_(f.resolution_met == 0, and_(f.resolution_met.is_(None), f.resolution_due < now))
    row = session.execute(select(
        func.count(), func.coalesce(func.sum(f.messages_in), 0), func.coalesce(func.sum(f.messages_out), 0),
        func.sum(case((f.first_response_met == 1, 1), else_=0)), func.sum(case((fr_missed, 1), else_=0)),
        func.sum(case((f.resolution_met == 1, 1), else_=0)), func.sum(case((res_missed, 1), else_=0)),
        func.sum(f.resolved), func.sum(case((f.reopens > 0, 1), else_=0)),
        func.sum(case((or_(f.resolved == 1, f.reopens > 0), 1), else_=0)),
    ).where(*cond)).one()
    cases, m_in, m_out, fr_met, fr_miss, res_met, res_miss, resolved, reopened, ever_resolved = row
    times = session.execute(select(f.first_response_s, f.first_response_bh_s, f.resolution_s, f.resolution_bh_s)
                            .where(*cond)).all()

    def col(i: int) -> list[float]:
        return [t[i] for t in times if t[i] is not None]

    out = {"cases": cases, "messages_in": int(m_in), "messages_out": int(m_out), "resolved": int(resolved or 0),
           "first_response_sla": _share(fr_met, (fr_met or 0) + (fr_miss or 0)),
           "resolution_sla": _share(res_met, (res_met or 0) + (res_miss or 0)),
           "reopen_rate": _share(reopened, ever_resolved), "reopened": int(reopened or 0)}
    for i, name in enumerate(("first_response", "first_response_bh", "resolution", "resolution_bh")):
        values = col(i)
        out[f"{name}_median_s"] = _median(values)
        out[f"{name}_p90_s"] = quantile(values, 0.9)
    return out


def open_now(session: Session):
    """Open now, as the partial index of open cases states it (`ix_report_case_facts_open`): the statuses
    written into the statement, not bound, for a planner uses a partial index only where it can prove the
    index's condition from the query's own text. SQLite (no statistics on the facts) is also told that the
    condition holds for most rows (`likelihood`): else three equality seeks into the status index look
    cheaper to it than a walk in opening order, and it sorts every open case for the median."""
    cond = CaseFacts.status.in_(bindparam("open_statuses", list(OPEN), expanding=True, literal_execute=True))
    if session.get_bind().dialect.name == "sqlite":
        return func.likelihood(cond, literal_column("0.9"))
    return cond


def backlog(session: Session, scope: Scope) -> dict:
    """Cases open now (whatever the period), and how old they are (counted in the database: the median's one
    or two middle cases are read by walking the open cases in opening order, not by sorting them all)."""
    f, conn = CaseFacts, session.connection()
    key = ("backlog", conn.dialect.name, *built.fact_shape(scope))

    def cond() -> list:  # the teams, channel, product and tag ([2:]: whatever the period)
        return [open_now(session)] + built.fact_conditions(f, *built.fact_shape(scope))[2:]

    # Those opened in the last day are a short range at the index's newest end: the older ones are the rest
    # (a sum of a comparison over every open case cost SQLite as much as the count itself).
    values = {**built.bound(scope), "day_ago": scope.now - timedelta(days=1)}
    n, oldest, recent = conn.execute(built.once(key, lambda: select(
        select(func.count()).where(*cond()).scalar_subquery(),
        select(func.min(f.opened_at)).where(*cond()).scalar_subquery(),
        select(func.count()).where(*cond(), f.opened_at >= bindparam("day_ago")).scalar_subquery())), values).one()
    older = n - recent
    if not n:
        return {"open": 0, "median_age_s": None, "oldest_age_s": None, "older_than_a_day": 0}
    # Ages ascending are opening times descending: the middle one (odd) or the mean of the middle two.
    middle = conn.execute(built.once((*key, "middle"), lambda: select(f.opened_at).where(*cond()).order_by(
        f.opened_at.desc()).offset(bindparam("skip", type_=Integer)).limit(bindparam("n", type_=Integer))),
        {**values, "skip": (n - 1) // 2, "n": 1 if n % 2 else 2}).scalars().all()
    ages = [(scope.now - at).total_seconds() for at in middle]
    return {"open": n, "median_age_s": float(statistics.median(ages)),
            "oldest_age_s": (scope.now - oldest).total_seconds(), "older_than_a_day": int(older)}


BREAKDOWNS = {"channel": CaseFacts.channel_id, "kind": CaseFacts.kind, "intent": CaseFacts.intent,
              "language": CaseFacts.language, "product": CaseFacts.product, "team": CaseFacts.lead_team_id}


def _volume_by_case(session: Session, scope: Scope, by: str) -> list[dict]:
    key = BREAKDOWNS[by]
    rows = session.execute(select(key, func.count(), func.coalesce(func.sum(CaseFacts.messages_in), 0))
                           .where(*conditions(scope)).group_by(key).order_by(func.count().desc())).all()
    return [{"key": k, "cases": n, "messages": int(m)} for k, n, m in rows]


def _daily_by_case(session: Session, scope: Scope) -> list[dict]:
    """Per day: cases opened, inbound messages, positive and negative ones, net sentiment."""
    f = CaseFacts
    rows = {r[0]: r for r in session.execute(
        select(f.opened_day, func.count(), func.sum(f.messages_in), func.sum(f.positive), func.sum(f.negative),
               func.sum(case((f.first_response_met == 1, 1), else_=0)),
               func.sum(case((f.first_response_met == 0, 1), else_=0)))
        .where(*conditions(scope)).group_by(f.opened_day))}
    out = []
    for i in range(scope.days):
        day = (scope.start + timedelta(days=i)).isoformat()
        _, cases, m, pos, neg, met, miss = rows.get(day, (day, 0, 0, 0, 0, 0, 0))
        m, pos, neg = int(m or 0), int(pos or 0), int(neg or 0)
        out.append({"day": day, "cases": cases, "messages": m, "positive": pos, "negative": neg,
                    "net_sentiment": _share(pos - neg, m), "first_response_sla": _share(met, (met or 0) + (miss or 0))})
    return out


def _collaboration_by_case(session: Session, scope: Scope) -> list[dict]:
    """Per team: its part in the cases opened in the period."""
    t = TeamFacts
    rows = session.execute(select(
        t.team_id, func.sum(case((t.role == "lead", 1), else_=0)), func.sum(case((t.role != "lead", 1), else_=0)),
        func.sum(t.replies), func.sum(t.notes), func.sum(t.handoffs), func.sum(t.multi_team), func.sum(t.approvals),
        func.sum(t.approval_wait_s), func.sum(t.approvals_pending), func.sum(t.effort_s),
        func.sum(case((t.actions > 0, 1), else_=0)),
    ).where(*conditions(scope, TeamFacts)).group_by(t.team_id).order_by(t.team_id)).all()
    firsts: dict[int, list[float]] = {}
    for team_id, s in session.execute(select(t.team_id, t.first_action_s).where(
            *conditions(scope, TeamFacts), t.first_action_s.is_not(None))):
        firsts.setdefault(team_id, []).append(s)
    out = []
    for team_id, led, collab, replies, notes, handoffs, multi, appr, wait, pending, effort, acted in rows:
        # PostgreSQL sums integers as numeric (Decimal): plain numbers from here on.
        wait, effort = float(wait or 0), float(effort or 0)
        decided = int(appr or 0) - int(pending or 0)
        out.append({"team_id": team_id, "cases_led": int(led), "cases_collaborated": int(collab),
                    "acted_on": int(acted), "replies": int(replies), "notes": int(notes), "handoffs": int(handoffs),
                    "multi_team_cases": int(multi), "approvals": int(appr),
                    "approval_wait_mean_s": round(wait / decided, 1) if decided else None,
                    "first_action_median_s": _median(firsts.get(team_id, [])),
                    "effort_hours": round(effort / 3600, 2)})
    return sorted(out, key=lambda r: -(r["cases_led"] + r["cases_collaborated"]))


def _reputation_by_case(session: Session, scope: Scope) -> dict:
    """Sentiment recovery, net sentiment, negative volume against its usual level, incidents, returning customers."""
    f = CaseFacts
    cond = conditions(scope)
    pos, neg, msgs, rec, eligible = session.execute(select(
        func.coalesce(func.sum(f.positive), 0), func.coalesce(func.sum(f.negative), 0),
        func.coalesce(func.sum(f.messages_in), 0), func.sum(f.recovered), func.count(f.recovered)).where(*cond)).one()
    usual = replace(scope, start=scope.start - timedelta(days=28), end=scope.start - timedelta(days=1))
    usual_neg = session.scalar(select(func.coalesce(func.sum(f.negative), 0)).where(*conditions(usual))) or 0
    per_day = neg / scope.days
    usual_per_day = usual_neg / 28
    contacts = select(f.contact_id).where(*cond, f.contact_id.is_not(None)).distinct().subquery()
    lo, _ = scope.day_bounds()
    returning = session.scalar(select(func.count()).select_from(contacts).where(
        select(CaseFacts.case_id).where(CaseFacts.contact_id == contacts.c.contact_id,
                                        CaseFacts.opened_day < lo).exists()))
    customers = session.scalar(select(func.count()).select_from(contacts))
    return {"recovery_rate": _share(rec, eligible), "recovered": int(rec or 0), "opened_negative_replied": eligible,
            "positive": int(pos), "negative": int(neg), "messages": int(msgs),
            "net_sentiment": _share(int(pos) - int(neg), int(msgs)),
            "negative_per_day": round(per_day, 2), "negative_usual_per_day": round(usual_per_day, 2),
            "negative_vs_usual": round(per_day / usual_per_day, 2) if usual_per_day else None,
            "customers": customers, "returning_customers": returning,
            "incidents": incidents(session, scope)}


def incidents(session: Session, scope: Scope) -> list[dict]:
    start = datetime.combine(scope.start, time(0), tzinfo=scope.now.tzinfo)
    end = datetime.combine(scope.end + timedelta(days=1), time(0), tzinfo=scope.now.tzinfo)
    conn = session.connection()
    # The incidents' columns as rows (the statement the ORM sent for Incident objects; none is changed here).
    rows = conn.execute(built.once(("incidents",), lambda: select(Incident.__table__).where(
        Incident.opened_at < bindparam("end"), or_(Incident.closed_at.is_(None), Incident.closed_at >= bindparam(
            "start"))).order_by(Incident.opened_at.desc()).limit(50)), {"start": start, "end": end}).all()
    reach = {i: (n, m) for i, n, m in conn.execute(built.once(("incident_reach",), lambda: select(
        CaseFacts.incident_id, func.count(), func.coalesce(func.sum(CaseFacts.messages_in), 0))
        .where(CaseFacts.incident_id.in_(built.values("ids"))).group_by(CaseFacts.incident_id)),
        {"ids": [inc.id for inc in rows] or [-1]})}
    out = []
    for inc in rows:
        cases, messages = reach.get(inc.id, (0, 0))
        ended = inc.closed_at or scope.now
        out.append({"id": inc.id, "topic": inc.topic, "status": inc.status, "opened_at": inc.opened_at,
                    "closed_at": inc.closed_at, "duration_s": int((ended - inc.opened_at).total_seconds()),
                    "cases": cases, "messages": int(messages)})
    return out


def _leads_by_case(session: Session, scope: Scope) -> dict:
    f = CaseFacts
    found, handed, won, lost, value = session.execute(select(
        func.coalesce(func.sum(f.lead), 0), func.coalesce(func.sum(f.lead_handed), 0),
        func.sum(case((f.lead_outcome == "won", 1), else_=0)), func.sum(case((f.lead_outcome == "lost", 1), else_=0)),
        func.coalesce(func.sum(case((f.lead_outcome == "won", f.lead_value), else_=0)), 0),
    ).where(*conditions(scope))).one()
    found = int(found)
    return {"found": found, "handed_to_sales": int(handed), "won": int(won or 0), "lost": int(lost or 0),
            "open": found - int(won or 0) - int(lost or 0), "won_value": round(float(value), 2)}


def _manager_return_by_case(session: Session, scope: Scope, teams: list[dict] | None = None) -> list[dict]:
    """Per team: effort, cost per resolved case at the hourly rate, public or private resolutions, lead value.
    `teams` is `collaboration(session, scope)` when the caller has it already."""
    f = CaseFacts
    led = {r[0]: r[1:] for r in session.execute(select(
        f.lead_team_id, func.sum(f.resolved), func.sum(case((f.resolved_public == 1, 1), else_=0)),
        func.sum(case((f.resolved_public == 0, 1), else_=0)),
        func.coalesce(func.sum(case((f.lead_outcome == "won", f.lead_value), else_=0)), 0),
    ).where(*conditions(scope)).group_by(f.lead_team_id))}
    out = []
    for team in teams if teams is not None else collaboration(session, scope):
        resolved, public, private, value = led.get(team["team_id"], (0, 0, 0, 0))
        cost = team["effort_hours"] * scope.hourly_rate
        out.append({"team_id": team["team_id"], "effort_hours": team["effort_hours"], "cost": round(cost, 2),
                    "resolved": int(resolved or 0),
                    "cost_per_resolved": round(cost / resolved, 2) if resolved else None,
                    "resolved_public": int(public or 0), "moved_private": int(private or 0),
                    "lead_value": round(float(value or 0), 2)})
    return out


# --- the figures from the per-day aggregates ---------------------------------------------------------------
def by_day(scope: Scope) -> bool:
    """Whether the per-day tables answer this scope (their key holds day, lead team and channel, not
    product or campaign tag)."""
    return not (scope.product or scope.tag)


def day_conditions(scope: Scope, table=DailyFacts, channel: bool = True) -> list:
    lo, hi = scope.day_bounds()
    out = [table.day >= lo, table.day <= hi]
    if scope.team_ids:
        out.append(table.team_id.in_(scope.team_ids))
    if channel and scope.channel_id is not None:
        out.append(table.channel_id == scope.channel_id)
    return out


def _int(v) -> int:
    return int(v or 0)  # PostgreSQL sums integers as numeric (Decimal)


def service(session: Session, scope: Scope, times: tuple[str, ...] = tuple(SERVICE_TIMES)) -> dict:
    """Response and resolution times, SLA attainment, reopen rate and volume for cases opened in the period;
    the median and p90 of the `times` only (SERVICE_TIMES' names: an objective on one needs no other)."""
    if not by_day(scope):
        return _service_by_case(session, scope)
    f, values = CaseFacts, built.bound(scope)
    row = session.connection().execute(built.once(("service", *built.shape(scope)), lambda: _service_sums(
        *built.shape(scope))), values).one()
    cases, m_in, m_out, fr_met, fr_miss, res_met, res_miss, resolved, reopened, ever, fr_late, res_late = \
        (_int(v) for v in row)
    fr_miss += fr_late
    res_miss += res_late
    out = {"cases": cases, "messages_in": m_in, "messages_out": m_out, "resolved": resolved,
           "first_response_sla": _share(fr_met, fr_met + fr_miss),
           "resolution_sla": _share(res_met, res_met + res_miss),
           "reopen_rate": _share(reopened, ever), "reopened": reopened}
    if not times:
        return out
    counts: dict[str, list[tuple[int, int]]] = {}
    for (metric, b), n in _service_hist(session, scope, times).items():
        counts.setdefault(metric, []).append((b, n))
    sh = built.shape(scope)
    found = exact_quantiles(session, {name: (getattr(f, SERVICE_TIMES[name]), lambda: built.fact_conditions(f, *sh))
                                      for name in times}, counts, ("service", *sh), values)
    for name in times:
        out[f"{name}_median_s"], out[f"{name}_p90_s"] = found[name]
    return out


def _service_sums(teams: bool, channel: bool):
    d, f = DailyFacts, CaseFacts
    fcond, now = built.fact_conditions(f, teams, channel), bindparam("now")
    return select(
        func.sum(d.cases), func.sum(d.messages_in), func.sum(d.messages_out), func.sum(d.fr_met),
        func.sum(d.fr_missed), func.sum(d.res_met), func.sum(d.res_missed), func.sum(d.resolved),
        func.sum(d.reopened), func.sum(d.ever_resolved),
        # The one part that depends on the clock: still waiting past the time it was due.
        select(func.count()).where(f.first_response_met.is_(None), f.first_response_due < now, *fcond)
        .scalar_subquery(),
        select(func.count()).where(f.resolution_met.is_(None), f.resolution_due < now, *fcond).scalar_subquery(),
    ).where(*built.day_conditions(d, teams, channel))


def _service_hist(session: Session, scope: Scope, times: tuple[str, ...]) -> dict[tuple[str, int], int]:
    """(figure, bucket) -> count of the period's cases. Unfiltered: the organization's histogram by day (~2,800
    rows for 28 days at full size, where the rows by day x team x channel are ~28,000: 12-21 ms a period).
    A team or a channel: its whole months from the histogram by month, the days at either end by day."""
    conn, sh = session.connection(), built.shape(scope)
    if not scope.filtered:
        h = DayHistogram
        stmt = built.once(("service_hist", *sh), lambda: select(h.metric, h.bucket, func.sum(h.n)).where(
            *built.day_conditions(h, *sh), h.metric.in_(built.values("times"))).group_by(h.metric, h.bucket))
        return {(m, b): _int(n) for m, b, n in conn.execute(stmt, {**built.bound(scope), "times": list(times)})}
    stmt = built.once(("service_hist_months", *sh), lambda: months.histogram(
        ("metric", "bucket"), *sh, lambda t: t.metric.in_(built.values("times"))))
    return months.summed(conn.execute(stmt, {**built.bound(scope), **months.bounds(scope.start, scope.end),
                                             "times": list(times)}))


BY_DAY_KEYS = {"channel": DailyFacts.channel_id, "team": DailyFacts.team_id}


def volume(session: Session, scope: Scope, by: str) -> list[dict]:
    return volumes(session, scope, (by,))[by]


def volumes(session: Session, scope: Scope, dims: tuple[str, ...] = tuple(BREAKDOWNS)) -> dict[str, list[dict]]:
    """Cases and inbound messages broken down by each of `dims` (two queries for all of them)."""
    if not by_day(scope):
        return {by: _volume_by_case(session, scope, by) for by in dims}
    out: dict[str, list[dict]] = {by: [] for by in dims}
    conn, values, sh = session.connection(), built.bound(scope), built.shape(scope)
    for by in dims:
        if by in BY_DAY_KEYS:
            key = BY_DAY_KEYS[by]
            stmt = built.once(("volume", by, *sh), lambda key=key: select(
                key, func.sum(DailyFacts.cases), func.sum(DailyFacts.messages_in))
                .where(*built.day_conditions(DailyFacts, *sh)).group_by(key))
            out[by] = [{"key": k or None, "cases": _int(n), "messages": _int(m)}
                       for k, n, m in conn.execute(stmt, values)]
    others = [by for by in dims if by not in BY_DAY_KEYS]
    if others:
        v = DailyVolume
        stmt = built.once(("volumes", *sh), lambda: select(v.dim, v.key, func.sum(v.cases), func.sum(v.messages))
                          .where(*built.day_conditions(v, *sh), v.dim.in_(built.values("dims")))
                          .group_by(v.dim, v.key))
        for dim, k, n, m in conn.execute(stmt, {**values, "dims": others}):
            out[dim].append({"key": k if k != "" else None, "cases": _int(n), "messages": _int(m)})
    for rows in out.values():
        rows.sort(key=lambda r: (-r["cases"], str(r["key"])))
    return out


def daily(session: Session, scope: Scope) -> list[dict]:
    """Per day: cases opened, inbound messages, positive and negative ones, net sentiment."""
    if not by_day(scope):
        return _daily_by_case(session, scope)
    d, sh = DailyFacts, built.shape(scope)
    stmt = built.once(("daily", *sh), lambda: select(
        d.day, func.sum(d.cases), func.sum(d.messages_in), func.sum(d.positive), func.sum(d.negative),
        func.sum(d.fr_met), func.sum(d.fr_missed)).where(*built.day_conditions(d, *sh)).group_by(d.day))
    rows = {r[0]: [_int(v) for v in r[1:]] for r in session.connection().execute(stmt, built.bound(scope))}
    out = []
    for i in range(scope.days):
        day = (scope.start + timedelta(days=i)).isoformat()
        cases, m, pos, neg, met, miss = rows.get(day, (0, 0, 0, 0, 0, 0))
        out.append({"day": day, "cases": cases, "messages": m, "positive": pos, "negative": neg,
                    "net_sentiment": _share(pos - neg, m), "first_response_sla": _share(met, met + miss)})
    return out


def collaboration(session: Session, scope: Scope) -> list[dict]:
    """Per team: its part in the cases opened in the period (a team's part is not filtered by channel,
    product or tag: those describe the case, the team's work is the team's)."""
    t, teams = DailyTeam, bool(scope.team_ids)
    conn, values = session.connection(), built.bound(scope)
    rows = conn.execute(built.once(("collaboration", teams), lambda: select(
        t.team_id, func.sum(t.led), func.sum(t.collaborated), func.sum(t.replies), func.sum(t.notes),
        func.sum(t.handoffs), func.sum(t.multi_team), func.sum(t.approvals), func.sum(t.approval_wait_s),
        func.sum(t.approvals_pending), func.sum(t.effort_s), func.sum(t.acted),
    ).where(*built.day_conditions(t, teams, False)).group_by(t.team_id).order_by(t.team_id)), values).all()
    counts: dict[str, list[tuple[int, int]]] = {}
    # Each team's first actions: whole months by month, the days at either end by day (months.py).
    hist = built.once(("first_action_hist", teams), lambda: months.histogram(
        ("team_id", "bucket"), teams, False, lambda t: t.metric == "first_action"))
    for (team_id, b), n in months.summed(conn.execute(hist, {**values, **months.bounds(scope.start,
                                                                                       scope.end)})).items():
        counts.setdefault(str(team_id), []).append((b, n))

    def team_conditions(team_id: int):
        return lambda: [*built.fact_conditions(TeamFacts, teams, False), TeamFacts.team_id == team_id]

    # (A team's id is a figure's name, so in the statement's key: an organization has a few teams.)
    firsts = exact_quantiles(session, {str(r[0]): (TeamFacts.first_action_s, team_conditions(r[0])) for r in rows},
                             counts, ("first_action", teams), values)
    out = []
    for team_id, led, collab, replies, notes, handoffs, multi, appr, wait, pending, effort, acted in rows:
        decided = _int(appr) - _int(pending)
        out.append({"team_id": team_id, "cases_led": _int(led), "cases_collaborated": _int(collab),
                    "acted_on": _int(acted), "replies": _int(replies), "notes": _int(notes),
                    "handoffs": _int(handoffs), "multi_team_cases": _int(multi), "approvals": _int(appr),
                    "approval_wait_mean_s": round(_int(wait) / decided, 1) if decided else None,
                    "first_action_median_s": firsts[str(team_id)][0],
                    "effort_hours": round(_int(effort) / 3600, 2)})
    return sorted(out, key=lambda r: -(r["cases_led"] + r["cases_collaborated"]))


def reputation(session: Session, scope: Scope, people: bool = True) -> dict:
    """Sentiment recovery, net sentiment, negative volume against its usual level, incidents, returning customers
    (with `people` only: the customers are a distinct count over the period's cases, the costly part)."""
    if not by_day(scope):
        return _reputation_by_case(session, scope)
    usual = replace(scope, start=scope.start - timedelta(days=28), end=scope.start - timedelta(days=1))
    # The period and the 28 days before it in one range (:lo is the usual level's start).
    values = {**built.bound(replace(scope, start=usual.start)), "start": scope.start.isoformat(),
              "uhi": usual.end.isoformat()}
    stmt = built.once(("reputation", *built.shape(scope)), lambda: _reputation_sums(*built.shape(scope)))
    pos, neg, msgs, rec, eligible, usual_neg = (_int(v) for v in session.connection().execute(stmt, values).one())
    per_day = neg / scope.days
    usual_per_day = usual_neg / 28
    out = {"recovery_rate": _share(rec, eligible), "recovered": rec, "opened_negative_replied": eligible,
           "positive": pos, "negative": neg, "messages": msgs, "net_sentiment": _share(pos - neg, msgs),
           "negative_per_day": round(per_day, 2), "negative_usual_per_day": round(usual_per_day, 2),
           "negative_vs_usual": round(per_day / usual_per_day, 2) if usual_per_day else None}
    if not people:
        return out
    customers, returning = _customers(session, scope)
    return {**out, "customers": customers, "returning_customers": returning, "incidents": incidents(session, scope)}


def _reputation_sums(teams: bool, channel: bool):
    d, start = DailyFacts, bindparam("start")
    return select(
        func.sum(case((d.day >= start, d.positive), else_=0)),
        func.sum(case((d.day >= start, d.negative), else_=0)),
        func.sum(case((d.day >= start, d.messages_in), else_=0)),
        func.sum(case((d.day >= start, d.recovered), else_=0)),
        func.sum(case((d.day >= start, d.recovery_eligible), else_=0)),
        func.sum(case((d.day <= bindparam("uhi"), d.negative), else_=0)),
    ).where(*built.day_conditions(d, teams, channel))


def _customers(session: Session, scope: Scope) -> tuple[int, int]:
    """The period's customers, and those of them who had a case before it (any team, any channel).
    Unfiltered, both are counted from the customers' rows by day (`report_contact_days`: a row per customer
    and day a case of theirs opened, `to_day` the next such day), one row each, index ranges: a customer had a
    case in the period exactly when their row valid at its end began in it (a distinct count of the period's
    cases sorted every customer, 18 ms of SQLite's CPU at full size), and one before it exactly when their row
    valid the day before it ends within it (a look-up per customer cost ~45 ms of 75 on PostgreSQL). One team
    (a manager's report): from the team's rows per customer and day (team_customers.py), one index range where
    the distinct count of the team's cases below cost ~95 ms of Support's 320 days on SQLite at full size."""
    if len(scope.team_ids) == 1 and scope.channel_id is None and not (scope.product or scope.tag):
        customers, returning = session.connection().execute(built.once(("team_customers",), team_customers.statement),
                                                            {**built.bound(scope), "team": scope.team_ids[0]}).one()
        return _int(customers), _int(returning)
    dialect = session.get_bind().dialect.name
    key = ("customers", scope.filtered, dialect, *built.shape(scope))
    customers, returning = session.connection().execute(
        built.once(key, lambda: _customers_statement(scope.filtered, dialect, *built.shape(scope))),
        built.bound(scope)).one()
    return _int(customers), _int(returning)


def _customers_statement(filtered: bool, dialect: str, teams: bool, channel: bool):
    """`_customers`' statement, its values bound (built.once)."""
    f, lo, hi = CaseFacts, bindparam("lo"), bindparam("hi")
    if not filtered:
        d = ContactDay
        return select(
            select(func.count()).where(d.from_day >= lo, d.from_day <= hi, d.to_day > hi).scalar_subquery(),
            select(func.count()).where(d.to_day >= lo, d.to_day <= hi, d.from_day < lo).scalar_subquery())
    contacts = select(f.contact_id).where(*built.fact_conditions(f, teams, channel),
                                          f.contact_id.is_not(None)).distinct().subquery()
    if dialect == "postgresql":
        # Filtered on PostgreSQL: the same rows by day, joined (a hash join of the team's customers with the
        # range of rows that say "a case before, the next one within the period": at most one per customer)
        # where the look-up per customer below cost ~27 ms of Support's 28 days at full size (-> ~15). SQLite
        # has no hash join: it would look each row up by customer, slower than the facts' own index.
        d = ContactDay
        before = and_(d.contact_id == contacts.c.contact_id, d.to_day >= lo, d.to_day <= hi, d.from_day < lo)
        return select(func.count(), func.count(d.contact_id)).select_from(contacts).outerjoin(d, before)
    earlier = select(f.case_id).where(f.contact_id == contacts.c.contact_id, f.opened_day < lo).exists()
    return select(func.count(), func.sum(case((earlier, 1), else_=0))).select_from(contacts)


def leads(session: Session, scope: Scope) -> dict:
    if not by_day(scope):
        return _leads_by_case(session, scope)
    d, sh = DailyFacts, built.shape(scope)
    stmt = built.once(("leads", *sh), lambda: select(
        func.sum(d.leads), func.sum(d.leads_handed), func.sum(d.leads_won), func.sum(d.leads_lost),
        func.sum(d.won_cents)).where(*built.day_conditions(d, *sh)))
    found, handed, won, lost, cents = (_int(v) for v in session.connection().execute(stmt, built.bound(scope)).one())
    return {"found": found, "handed_to_sales": handed, "won": won, "lost": lost, "open": found - won - lost,
            "won_value": round(cents / 100, 2)}


def manager_return(session: Session, scope: Scope, teams: list[dict] | None = None) -> list[dict]:
    """Per team: effort, cost per resolved case at the hourly rate, public or private resolutions, lead value.
    `teams` is `collaboration(session, scope)` when the caller has it already."""
    if not by_day(scope):
        return _manager_return_by_case(session, scope, teams)
    d, sh = DailyFacts, built.shape(scope)
    stmt = built.once(("return", *sh), lambda: select(
        d.team_id, func.sum(d.resolved), func.sum(d.resolved_public), func.sum(d.moved_private),
        func.sum(d.won_cents)).where(*built.day_conditions(d, *sh)).group_by(d.team_id))
    led = {r[0]: [_int(v) for v in r[1:]] for r in session.connection().execute(stmt, built.bound(scope))}
    out = []
    for team in teams if teams is not None else collaboration(session, scope):
        resolved, public, private, cents = led.get(team["team_id"], (0, 0, 0, 0))
        cost = team["effort_hours"] * scope.hourly_rate
        out.append({"team_id": team["team_id"], "effort_hours": team["effort_hours"], "cost": round(cost, 2),
                    "resolved": resolved, "cost_per_resolved": round(cost / resolved, 2) if resolved else None,
                    "resolved_public": public, "moved_private": private, "lead_value": round(cents / 100, 2)})
    return out
