"""What one case adds to the per-day aggregates: pure functions over its facts rows, no database.

Every per-day table (reports/models.py: DailyFacts, DailyVolume, DailyHistogram, DayHistogram, MonthHistogram,
DailyTeam) is
the sum of `contributions` over every case's facts. The upkeep subtracts a case's old contribution and adds
its new one (reports/upkeep.py); the rebuild adds every case's. Both go through this one function, and every column
is an integer, so the kept and the rebuilt tables are equal, not just close.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from functools import partial

DIMENSIONS = ("kind", "intent", "language", "product")
SERVICE_TIMES = {"first_response": "first_response_s", "first_response_bh": "first_response_bh_s",
                 "resolution": "resolution_s", "resolution_bh": "resolution_bh_s"}


def _edges() -> list[int]:
    """Bucket lower bounds in seconds: exact to 10 s, then 25 % wide (about 85 buckets up to ten years)."""
    edges = list(range(0, 11))
    while edges[-1] < 10 * 365 * 86400:
        edges.append(max(edges[-1] + 1, round(edges[-1] * 1.25)))
    return edges


BUCKETS = _edges()


def bucket(seconds: int) -> int:
    return bisect_right(BUCKETS, max(0, int(seconds))) - 1


def bucket_range(b: int) -> tuple[int, int | None]:
    """[low, high) of bucket b in seconds; the last bucket has no high."""
    return BUCKETS[b], BUCKETS[b + 1] if b + 1 < len(BUCKETS) else None


Key = tuple
Deltas = dict[Key, dict[str, int]]


def _add(out: Deltas, key: Key, sign: int, names: tuple[str, ...], values: tuple) -> None:
    """Add each non-zero value (True counts 1; the others are ints) to its
    column of the key's row (a defaultdict(int): a column appears once something non-zero is added)."""
    row = out[key]
    for k, v in zip(names, values, strict=True):
        if v:
            row[k] += sign if v is True else sign * v


# Each table's columns in the order `contributions` gives their values (names apart from the values: building
# keyword arguments for every row was most of its time).
DAILY = ("cases", "messages_in", "messages_out", "fr_met", "fr_missed", "res_met", "res_missed", "resolved",
         "reopened", "ever_resolved", "positive", "negative", "recovered", "recovery_eligible", "leads",
         "leads_handed", "leads_won", "leads_lost", "won_cents", "resolved_public", "moved_private")
VOLUME = ("cases", "messages")
TEAM = ("parts", "led", "collaborated", "acted", "replies", "notes", "handoffs", "multi_team", "approvals",
        "approval_wait_s", "approvals_pending", "effort_s")


def contributions(cases: list[dict], teams: list[dict], sign: int = 1, out: Deltas | None = None) -> Deltas:
    """(table, *key) -> {column: delta} for these facts rows, added (sign 1) or taken away (sign -1)."""
    out = out if out is not None else defaultdict(partial(defaultdict, int))
    for f in cases:
        day, team, channel = f["opened_day"], f["lead_team_id"] or 0, f["channel_id"] or 0
        won = f["lead_outcome"] == "won"
        fr_met, res_met, reopens, resolved = f["first_response_met"], f["resolution_met"], f["reopens"], f["resolved"]
        recovered, public, messages = f["recovered"], f["resolved_public"], f["messages_in"]
        _add(out, ("daily", day, team, channel), sign, DAILY, (
            1, messages, f["messages_out"], fr_met == 1, fr_met == 0, res_met == 1, res_met == 0, resolved,
            reopens > 0, bool(resolved) or reopens > 0, f["positive"], f["negative"], recovered == 1,
            recovered is not None, f["lead"], f["lead_handed"], won, f["lead_outcome"] == "lost",
            round(float(f["lead_value"] or 0) * 100) if won else 0, public == 1, public == 0))
        # The one- and two-column rows added in place (what `_add` does: a call each was a third of this loop).
        moved = sign * messages
        for dim in DIMENSIONS:
            key = f[dim]
            row = out[("volume", day, team, channel, dim, "" if key is None else str(key))]
            row["cases"] += sign
            if messages:
                row["messages"] += moved
        for metric, column in SERVICE_TIMES.items():
            if f[column] is not None:
                b = bucket(f[column])
                out[("hist", day, team, channel, metric, b)]["n"] += sign
                out[("day_hist", day, metric, b)]["n"] += sign
                out[("month_hist", day[:7], team, channel, metric, b)]["n"] += sign
    for t in teams:
        day, team = t["opened_day"], t["team_id"]
        _add(out, ("team", day, team), sign, TEAM, (
            1, t["role"] == "lead", t["role"] != "lead", t["actions"] > 0, t["replies"], t["notes"], t["handoffs"],
            t["multi_team"], t["approvals"], t["approval_wait_s"], t["approvals_pending"], t["effort_s"]))
        if t["first_action_s"] is not None:
            b = bucket(t["first_action_s"])
            out[("hist", day, team, 0, "first_action", b)]["n"] += sign
            out[("month_hist", day[:7], team, 0, "first_action", b)]["n"] += sign
    return out


# The column that says a row still counts for something (0: the row is deleted).
COUNT_COLUMN = {"daily": "cases", "volume": "cases", "hist": "n", "day_hist": "n", "month_hist": "n", "team": "parts"}
