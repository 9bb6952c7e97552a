"""The figures of docs/metrics.md, computed over the facts of a period (one range scan of an index each).

Every function takes a `Scope` (period, filters, the teams the viewer may report on) and returns plain
dicts; the pages, the JSON API, the CSV exports and the digest all read these.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from onevoice.cases.models import Incident
from onevoice.reports.models import CaseFacts, TeamFacts

OPEN = ("open", "pending_customer", "pending_internal")


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


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _share(part: int | None, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole else None


def service(session: Session, scope: Scope) -> dict:
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


def backlog(session: Session, scope: Scope) -> dict:
    """Cases open now (whatever the period), and how old they are."""
    cond = [CaseFacts.status.in_(OPEN)] + conditions(scope)[2:]
    opened = sorted(session.scalars(select(CaseFacts.opened_at).where(*cond)))
    ages = [(scope.now - at).total_seconds() for at in opened]
    return {"open": len(ages), "median_age_s": _median(ages), "oldest_age_s": max(ages) if ages else None,
            "older_than_a_day": sum(1 for a in ages if a > 86400)}


BREAKDOWNS = {"channel": CaseFacts.channel_id, "kind": CaseFacts.kind, "intent": CaseFacts.intent,
              "language": CaseFacts.language, "product": CaseFacts.product, "team": CaseFacts.lead_team_id}


def volume(session: Session, scope: Scope, by: str) -> list[dict]:
    key = BREAKDOWNS[by]
    rows = session.execute(select(key, func.count(), func.coalesce(func.sum(CaseFacts.messages_in), 0))
                           .where(*conditions(scope)).group_by(key).order_by(func.count().desc())).all()
    return [{"key": k, "cases": n, "messages": int(m)} for k, n, m in rows]


def daily(session: Session, scope: Scope) -> list[dict]:
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


def collaboration(session: Session, scope: Scope) -> list[dict]:
    """Per team: its part in the cases opened in the period."""
    t = TeamFacts
    rows = session.execute(select(
        t.team_id, func.sum(case((t.role == "lead", 1), else_=0)), func.sum(case((t.role != "lead", 1), else_=0)),
        func.sum(t.replies), func.sum(t.notes), func.sum(t.handoffs), func.sum(t.multi_team), func.sum(t.approvals),
        func.sum(t.approval_wait_s), func.sum(t.approvals_pending), func.sum(t.effort_s),
        func.sum(case((t.actions > 0, 1), else_=0)),
    ).where(*conditions(scope, TeamFacts)).group_by(t.team_id)).all()
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


def reputation(session: Session, scope: Scope) -> dict:
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
    rows = session.scalars(select(Incident).where(Incident.opened_at < end, or_(
        Incident.closed_at.is_(None), Incident.closed_at >= start)).order_by(Incident.opened_at.desc()).limit(50))
    out = []
    for inc in rows:
        reach = session.execute(select(func.count(), func.coalesce(func.sum(CaseFacts.messages_in), 0))
                                .where(CaseFacts.incident_id == inc.id)).one()
        ended = inc.closed_at or scope.now
        out.append({"id": inc.id, "topic": inc.topic, "status": inc.status, "opened_at": inc.opened_at,
                    "closed_at": inc.closed_at, "duration_s": int((ended - inc.opened_at).total_seconds()),
                    "cases": reach[0], "messages": int(reach[1])})
    return out


def leads(session: Session, scope: Scope) -> dict:
    f = CaseFacts
    found, handed, won, lost, value = session.execute(select(
        func.coalesce(func.sum(f.lead), 0), func.coalesce(func.sum(f.lead_handed), 0),
        func.sum(case((f.lead_outcome == "won", 1), else_=0)), func.sum(case((f.lead_outcome == "lost", 1), else_=0)),
        func.coalesce(func.sum(case((f.lead_outcome == "won", f.lead_value), else_=0)), 0),
    ).where(*conditions(scope))).one()
    found = int(found)
    return {"found": found, "handed_to_sales": int(handed), "won": int(won or 0), "lost": int(lost or 0),
            "open": found - int(won or 0) - int(lost or 0), "won_value": round(float(value), 2)}


def manager_return(session: Session, scope: Scope, teams: list[dict] | None = None) -> list[dict]:
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
