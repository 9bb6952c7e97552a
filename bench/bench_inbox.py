"""The inbox pages' server time with 1,000,000 messages and 300,000 cases (issue 4: p95 < 100 ms).

Measures what the page routes call (queue page with rows, rail counts, case page) in a fresh read
session each time, for a coordinator (every team) and a support responder, on SQLite (and PostgreSQL).

    python -m bench.bench_inbox [--sqlite PATH] [--postgres URL] [--runs 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from sqlalchemy import select

from bench.common import machine, percentile, seeded_database
from bench.dataset import build
from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.cases.models import Case
from onevoice.cases.page import case_page
from onevoice.db import make_engine, make_sessionmaker
from onevoice.inbox.filters import Filters
from onevoice.inbox.service import queue_page, rail

VIEWS = [("open", {}), ("team:support", {}), ("team:support", {"sort": "sla"}),
         ("team:support", {"sort": "priority"}), ("unassigned", {}), ("breaching", {}),
         ("open", {"intent": "complaint"}), ("open", {"q": "refund"})]


def timed(factory, fn, runs: int) -> dict:
    times = []
    for i in range(runs):
        t = time.perf_counter()
        with factory() as s:
            fn(s)
        if i:
            times.append(time.perf_counter() - t)
    return {"p50_ms": round(statistics.median(times) * 1000, 2), "p95_ms": round(percentile(times, 95) * 1000, 2)}


def measure(url: str, runs: int) -> dict:
    engine = make_engine(url)
    factory = make_sessionmaker(engine, readonly=True)
    with factory() as s:
        people = {e: principal_for(s, s.scalar(select(User).where(User.email == e)))
                  for e in ("lead@demo.onevoice.test", "support@demo.onevoice.test")}
        case_ids = list(s.scalars(select(Case.id).order_by(Case.id.desc()).limit(runs)))
    out = {}
    for email, who in people.items():
        for queue, params in VIEWS:
            label = f"{email.split('@')[0]} {queue} {json.dumps(params) if params else ''}".strip()
            out[label] = timed(factory, lambda s, q=queue, p=params, w=who: queue_page(s, w, q, Filters(**p)), runs)
        out[f"{email.split('@')[0]} rail counts"] = timed(factory, lambda s, w=who: rail(s, w), runs)
    lead = people["lead@demo.onevoice.test"]
    it = iter(case_ids * 2)
    out["case page"] = timed(factory, lambda s: case_page(s, lead, next(it)), runs)
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqlite", default="/tmp/onevoice-bench/inbox.db")
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--cases", type=int, default=300_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    results = {"machine": machine()}
    Path(args.sqlite).parent.mkdir(parents=True, exist_ok=True)
    targets = [("sqlite", f"sqlite:///{args.sqlite}")] + ([("postgresql", args.postgres)] if args.postgres else [])
    for name, url in targets:
        seeded_database(url)
        engine = make_engine(url)
        t = time.perf_counter()
        build(engine, args.cases, args.messages)
        engine.dispose()
        results[name] = {"build_seconds": round(time.perf_counter() - t, 1), **measure(url, args.runs)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
