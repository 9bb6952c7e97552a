"""A period's time histograms from whole months and the days at either end.

`report_daily_hist` holds a row per day x team x channel x figure x bucket: a team's report over 320 days
read ~200,000 of them for its service times (twice: the period and the one before), a tenth of a second on
SQLite at full size. `report_month_hist` holds the same counts summed per calendar month, so a period is
read as the days before its first whole month, its whole months, and the days after its last one: at most
~60 days' rows and a dozen months' whatever its length. A period with no whole month reads its days only
(the month part is given an empty range), so every period has one statement shape.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import bindparam, func, select, union_all

from onevoice.reports import built
from onevoice.reports.models import DailyHistogram, MonthHistogram


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def bounds(lo: date, hi: date) -> dict:
    """The three parts' bound values: days [head_lo, head_hi], months [m_lo, m_hi], days [tail_lo, tail_hi];
    an empty part has its low bound after its high one."""
    first = lo if lo.day == 1 else _next_month(lo)  # the first whole month's first day
    after = _month_start(hi + timedelta(days=1))  # the day after the last whole month
    if first >= after:  # no whole month: the days only
        return {"head_lo": lo.isoformat(), "head_hi": hi.isoformat(), "m_lo": "9999-12", "m_hi": "0000-01",
                "tail_lo": "9999-12-31", "tail_hi": "0000-01-01"}
    return {"head_lo": lo.isoformat(), "head_hi": (first - timedelta(days=1)).isoformat(),
            "m_lo": first.isoformat()[:7], "m_hi": (after - timedelta(days=1)).isoformat()[:7],
            "tail_lo": after.isoformat(), "tail_hi": hi.isoformat()}


def histogram(columns: tuple[str, ...], teams: bool, channel: bool, metric):
    """The statement summing `n` by `columns` (of both tables: e.g. metric, bucket) over a period's three
    parts, under a team filter (:teams) and/or a channel (:channel) and `metric(table)` (a condition on the
    figure's name); its rows may repeat a key once per part (the caller adds them up)."""
    parts = []
    for table, col, lo, hi in ((DailyHistogram, "day", "head_lo", "head_hi"),
                               (MonthHistogram, "month", "m_lo", "m_hi"),
                               (DailyHistogram, "day", "tail_lo", "tail_hi")):
        cond = [table.__table__.c[col] >= bindparam(lo), table.__table__.c[col] <= bindparam(hi), metric(table)]
        if teams:
            cond.append(table.team_id.in_(built.values("teams")))
        if channel:
            cond.append(table.channel_id == bindparam("channel"))
        keys = [table.__table__.c[c] for c in columns]
        parts.append(select(*keys, func.sum(table.n)).where(*cond).group_by(*keys))
    return union_all(*parts)


def summed(rows) -> dict[tuple, int]:
    """(key..., n) rows, a key repeated across the parts -> key -> n."""
    out: dict[tuple, int] = {}
    for *key, n in rows:
        out[tuple(key)] = out.get(tuple(key), 0) + int(n or 0)
    return out
