"""The reports' statements, built once per shape and reused with bound values.

Building a SQLAlchemy statement (each operator, function and bound value an object) and computing its cache
key cost more of this process's CPU than running it for most of a report's ~40 statements: a third of its
CPU on PostgreSQL, where the database does the rest (bench/README.md, branch `rp3`). A report's
statements differ from one report to the next only in their values (the days, the moments, the teams):
so each is built once for its shape (which filters are there, which parts a union has), with bind
parameters where the values go, and run with the values of the report at hand. The SQL sent is the one the
statement built every time gave (the same text but for the parameters' names, an IN list still expanded
item by item), so the plans and the answers are the same.

A key names a shape, never a value: the cache holds a few dozen statements whatever is asked (at most KEPT). A statement
is shared by the threads of a report's parts (snapshot.concurrently): it is not changed once built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import bindparam

from onevoice.reports.models import CaseFacts

T = TypeVar("T")
_BUILT: dict[tuple, object] = {}
# Past this many statements, new shapes are built every time and not kept. A key holds no value, but a few
# (the quantiles' parts, a team's id among the figures) follow the data: this bounds what they can add.
KEPT = 512


def once(key: tuple, build: Callable[[], T]) -> T:
    """The statement `build()` gives, built the first time `key` is asked for. Two threads asking at once
    may both build it (the same statement: one is kept); neither waits for the other."""
    stmt = _BUILT.get(key)
    if stmt is None:
        stmt = build()
        if len(_BUILT) < KEPT:
            stmt = _BUILT.setdefault(key, stmt)
    return stmt  # type: ignore[return-value]


def values(name: str):
    """An IN list's parameter (`col.in_(values("days"))`): expanded item by item when run, as a list is."""
    return bindparam(name, expanding=True)


def shape(scope, channel: bool = True) -> tuple[bool, bool]:
    """The part of a scope a statement's shape depends on: a team filter (any number of teams), a channel."""
    return bool(scope.team_ids), channel and scope.channel_id is not None


def fact_shape(scope) -> tuple[bool, bool, bool, bool]:
    """`shape` and whether a product or a campaign tag narrows the cases (the facts' own filters)."""
    return (*shape(scope), bool(scope.product), bool(scope.tag))


def bound(scope) -> dict:
    """A scope's values as the statements below bind them."""
    lo, hi = scope.day_bounds()
    return {"lo": lo, "hi": hi, "teams": list(scope.team_ids), "channel": scope.channel_id, "now": scope.now,
            "product": scope.product, "tag": "," + scope.tag + "," if scope.tag else None}


def day_conditions(table, teams: bool, channel: bool) -> list:
    """metrics.day_conditions with its values bound (:lo, :hi, :teams, :channel; `shape`)."""
    out = [table.day >= bindparam("lo"), table.day <= bindparam("hi")]
    if teams:
        out.append(table.team_id.in_(values("teams")))
    if channel:
        out.append(table.channel_id == bindparam("channel"))
    return out


def fact_conditions(table, teams: bool, channel: bool, product: bool = False, tag: bool = False) -> list:
    """metrics.conditions with its values bound (`shape`, `fact_shape`): the facts opened in the period, of
    the teams (CaseFacts: as lead); the channel, product and tag are the case's (CaseFacts only)."""
    out = [table.opened_day >= bindparam("lo"), table.opened_day <= bindparam("hi")]
    if teams:
        out.append((table.lead_team_id if table is CaseFacts else table.team_id).in_(values("teams")))
    if channel:
        out.append(table.channel_id == bindparam("channel"))
    if product:
        out.append(table.product == bindparam("product"))
    if tag:
        out.append(table.tags.contains(bindparam("tag")))
    return out
