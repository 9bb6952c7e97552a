"""A team's customers in a period, and how many of them had a case before it, from one index range.

A team's report counts the customers with a case the team led that opened in the period, and of them those
with any case before it. As a distinct count of the period's cases (each customer then looked up for an
earlier case) that cost ~95 ms of Support's 320-day report on SQLite at full size. `report_team_contact_days`
holds a row per team, customer and day a case of theirs led by the team opened, valid until the next such day
(`to_day`), with the customer's first case's day (any team: `first_day`). A customer had a case of the team in
the period exactly when their row valid at its end began in it: one row each, a range of the index by team and
first day that holds the other two columns; and a case before it exactly when their first day is before it.
Kept with the customers' rows by day (repository.refresh_keys: recomputed from a customer's facts whenever
theirs are), so the upkeep and the rebuild write the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, case, func, select

from onevoice.reports.models import LAST_DAY, TeamContactDay


def team_days(cases: Iterable[tuple[str, int | None]]) -> list[dict]:
    """A customer's rows from their cases' (opened_day, lead_team_id), in day order: per team that led one
    and each day such a case opened, valid until the team's next such day, with their first case's day."""
    first = None
    by_team: dict[int, list[str]] = {}
    for day, team in cases:
        first = first or day
        if team is None:
            continue
        days = by_team.setdefault(team, [])
        if not days or days[-1] != day:
            days.append(day)
    return [{"team_id": team, "from_day": day, "to_day": days[i + 1] if i + 1 < len(days) else LAST_DAY,
             "first_day": first} for team, days in by_team.items() for i, day in enumerate(days)]


def statement():
    """One team's customers in the period (:team, :lo, :hi) and those of them with a case before it."""
    t, lo, hi = TeamContactDay, bindparam("lo"), bindparam("hi")
    return select(func.count(), func.sum(case((t.first_day < lo, 1), else_=0))).where(
        t.team_id == bindparam("team"), t.from_day >= lo, t.from_day <= hi, t.to_day > hi)
