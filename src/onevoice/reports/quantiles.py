"""A figure's median and p90 over a scope, exact, from its histogram by day and one index range of its values.

The per-day tables keep each figure's histogram (bucket x count, reports/aggregate.py); the median's and the
p90's ranks fall in one bucket each, and those values are read from the facts where the bucket's range of the
value index starts or ends: one statement for every figure of a report's part.
"""

from __future__ import annotations

import math
import statistics

from sqlalchemy import Integer, bindparam, literal, select, union_all
from sqlalchemy.orm import Session

from onevoice.reports import built
from onevoice.reports.aggregate import bucket_range


def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _ranks(n: int) -> dict[str, list[int]]:
    """The 1-based ranks each figure reads among n sorted values: the median (one or the two middle ones,
    as statistics.median) and the nearest-rank p90 (as metrics.quantile)."""
    if not n:
        return {"median": [], "p90": []}
    middle = [(n + 1) // 2] if n % 2 else [n // 2, n // 2 + 1]
    return {"median": middle, "p90": [max(0, math.ceil(0.9 * n) - 1) + 1]}


def exact_quantiles(session: Session, wanted: dict[str, tuple], counts: dict[str, list[tuple[int, int]]],
                    key: tuple, values: dict) -> dict:
    """name -> (median, p90) for each figure: `counts[name]` is its histogram (bucket, n) over the scope,
    `wanted[name]` (value column, a function giving the conditions its values are under, with their values
    bound from `values`). One query reads every value needed, each from the one bucket it falls in (an index
    range), so the figures are the exact ones. The query is built once (built.once) for `key` (what the
    conditions' shape depends on) and its parts' shapes: the figure, which end of its bucket it is walked
    from, whether the bucket is the last one; each part's bounds, skip and count are bound (:q<part>_...)."""
    plan, slots, params = [], [], dict(values)
    for name, (_column, _conds) in wanted.items():
        hist = sorted(counts.get(name, []))
        sizes = dict(hist)
        n = sum(sizes.values())
        for which, ranks in _ranks(n).items():
            # Each rank's bucket and place in it; the median's two middle values, mostly in one bucket, are
            # read by one walk.
            reads: dict[int, list[int]] = {}
            for r in ranks:
                before = 0
                for b, c in hist:
                    if before + c >= r:
                        reads.setdefault(b, []).append(r - before)
                        break
                    before += c
            for b, places in reads.items():
                c = sizes[b]
                lo, hi = bucket_range(b)
                # The walk goes through every day's values of the bucket up to the place (the index leads
                # with the value): from the end the place is nearer to, half of it on average.
                first, last = min(places), max(places)
                ascending = first - 1 <= c - last
                i = len(slots)
                slots.append((name, which))
                plan.append((name, ascending, hi is None))
                params.update({f"q{i}_lo": lo, f"q{i}_hi": hi, f"q{i}_skip": first - 1 if ascending else c - last,
                               f"q{i}_n": last - first + 1})
    found: dict[tuple[str, str], list[float]] = {}
    if plan:
        query = built.once(("quantiles", *key, tuple(plan)), lambda: _quantiles(wanted, plan))
        for i, v in session.connection().execute(query, params):
            found.setdefault(slots[i], []).append(v)
    return {name: (median(found.get((name, "median"), [])),
                   float(found[(name, "p90")][0]) if (name, "p90") in found else None) for name in wanted}


def _quantiles(wanted: dict[str, tuple], plan: list[tuple[str, bool, bool]]):
    """exact_quantiles' statement: one part per (figure, ascending, last bucket) of `plan`."""
    parts, conds = [], {}
    for i, (name, ascending, open_ended) in enumerate(plan):
        column = wanted[name][0]
        if name not in conds:
            conds[name] = wanted[name][1]()
        limits = [column >= bindparam(f"q{i}_lo")] + ([] if open_ended else [column < bindparam(f"q{i}_hi")])
        parts.append(select(literal(i).label("i"), column.label("v")).where(*conds[name], *limits)
                     .order_by(column if ascending else column.desc())
                     .offset(bindparam(f"q{i}_skip", type_=Integer)).limit(bindparam(f"q{i}_n", type_=Integer))
                     .subquery())
    return union_all(*[select(p.c.i, p.c.v) for p in parts]) if len(parts) > 1 else select(parts[0].c.i, parts[0].c.v)
