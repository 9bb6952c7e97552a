"""Which of a report's filters a customer's case matched, kept on their rows by day (report_contact_days), so
that a team's (or a channel's) report counts its customers' advocates and detractors as index ranges, as the
organization's does, rather than reading each customer (reports/ranking.py).

A filtered report counts the customers with a matching case opened in its period [lo, hi]. A customer's row
valid at the end of the period (begun by `hi`, ending after it) has no case of theirs between its first day
and `hi`: they had a matching case in the period if their last one opened on or before the row's first day did
so on or after `lo` (`last`). Their row valid at the end of the previous period (`lo` - 1) ends on their next
case's day, so they had one if their first matching case on or after the row's end opened by `hi` (`next`).
Each row keeps both, per team that led a case of theirs (`t<team id>`), per channel (`c<channel id>`) and per
both (`t<team id>c<channel id>`: a manager's report of one channel), as text:
"|c2:2026-05-01|t3:2026-05-01|t3c2:2026-05-01|" (its parts sorted; a key absent: no such case). The product and
campaign tag filters are not kept (free text, several tags a case): those reports read each customer.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import String, and_, bindparam, func, or_


@lru_cache(maxsize=4096)
def keys(team_id: int | None, channel_id: int | None) -> tuple[str, ...]:
    """A case's keys: the team that leads it, its channel, and both (a manager's report of one channel)."""
    out = () if team_id is None else (f"t{team_id}",)
    if channel_id is None:
        return out
    return (*out, f"c{channel_id}", *(() if team_id is None else (f"t{team_id}c{channel_id}",)))


def texts(firsts: list[str], row_keys: list[list[str]]) -> list[tuple[str, str]]:
    """(last, next) for each row of a customer, from their rows' first days and the keys of the cases opened on
    each (ranking.days): last, per key, the last day on or before the row's first day; next, per key, the
    first day on or after its end (the next row's first day). A row's text is its keys' "|key:day" in sorted
    order, joined: the upkeep recomputes a customer's rows on every pass that touches them, so each part is
    made once and the rest is `sorted` and `join`."""
    parts_by_row = [[(k, f"|{k}:{day}") for k in ks] for day, ks in zip(firsts, row_keys, strict=True)]
    parts: dict[str, str] = {}
    lasts = []
    for row in parts_by_row:
        parts.update(row)
        lasts.append(_joined(parts))
    parts = {}
    nexts = [""]  # the last row: no case after it
    for row in reversed(parts_by_row[1:]):
        parts.update(row)  # going back, each key ends at its earliest day
        nexts.append(_joined(parts))
    nexts.reverse()
    return list(zip(lasts, nexts, strict=True))


def _joined(parts: dict[str, str]) -> str:
    return "".join(sorted(parts.values())) + "|" if parts else ""


def wanted(scope) -> list[str] | None:
    """The keys any of which a scope's matching case has (a team filter: one per team, with its channel if
    one is asked; a channel alone: its own), or None where the rows do not keep what the filter asks (a
    product, a campaign tag)."""
    if scope.product or scope.tag:
        return None
    channel = "" if scope.channel_id is None else f"c{scope.channel_id}"
    if scope.team_ids:
        return [f"|t{t}{channel}:" for t in scope.team_ids]
    return [f"|{channel}:"] if channel else None


def bound(scope) -> dict:
    """`wanted`'s keys bound as :m0, :m1, ... and the period's first and last day as :mlo, :mhi."""
    lo, hi = scope.day_bounds()
    return {"mlo": lo, "mhi": hi, **{f"m{i}": k for i, k in enumerate(wanted(scope) or ())}}


def _day(column, i: int, dialect: str):
    key = bindparam(f"m{i}", type_=String)
    at = (func.strpos if dialect == "postgresql" else func.instr)(column, key)
    return at, func.substr(column, at + func.length(key), 10)


def since(row, n: int, dialect: str):
    """`row` (valid at the period's end) is of a customer with a matching case in the period: a kept last
    day of one of the `n` keys on or after :mlo."""
    lo = bindparam("mlo", type_=String)
    # Begun in the period, as such a customer's row is (the last begun by its end: at or after their case's
    # day): on the key indexes a comparison of each entry, before any key's text is searched.
    return and_(row.from_day >= lo, or_(*[and_(at > 0, day >= lo)
                                          for at, day in (_day(row.keys_last, i, dialect) for i in range(n))]))


def until(row, n: int, dialect: str):
    """`row` (valid at the end of the previous period) is of a customer with a matching case in the period: a
    kept next day of one of the `n` keys by :mhi."""
    return or_(*[and_(at > 0, day <= bindparam("mhi", type_=String))
                 for at, day in (_day(row.keys_next, i, dialect) for i in range(n))])
