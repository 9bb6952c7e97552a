"""A team's case list, first page, with 1,000,000 messages and 300,000 cases (issue 2's target: p95 < 50 ms).

Measured as server time (the service call that the route makes, in a fresh read session each time)
and through HTTP, on SQLite and on PostgreSQL.

    python -m bench.bench_case_list [--sqlite PATH] [--postgres URL] [--cases 300000] [--messages 1000000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import httpx

from bench.common import Server, machine, percentile, seeded_database
from bench.dataset import build
from onevoice.cases.service import list_cases
from onevoice.db import make_engine, make_sessionmaker

QUERIES = [
    {"team": "support"}, {"team": "support", "status": "open"}, {"team": "product"},
    {"team": "pr", "status": "open"}, {"status": "open"}, {},
]


def measure(url: str, runs: int, with_http: bool) -> dict:
    engine = make_engine(url)
    factory = make_sessionmaker(engine, readonly=True)
    out = {}
    for q in QUERIES:
        times = []
        for i in range(runs):
            t = time.perf_counter()
            with factory() as s:
                page = list_cases(s, limit=50, **q)
            if i:  # the first run warms caches
                times.append(time.perf_counter() - t)
        out["&".join(f"{k}={v}" for k, v in q.items()) or "all"] = {
            "items": len(page.items), "p50_ms": round(statistics.median(times) * 1000, 2),
            "p95_ms": round(percentile(times, 95) * 1000, 2)}
    engine.dispose()
    if with_http:
        token = seeded_database(url)
        with Server(url, env={"ONEVOICE_EMBEDDED_WORKER": "false"}) as server, \
                httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as c:
            times = []
            for i in range(runs):
                t = time.perf_counter()
                assert c.get("/api/v1/cases", params={"team": "support", "limit": 50}).status_code == 200
                if i:
                    times.append(time.perf_counter() - t)
            out["http team=support"] = {"p50_ms": round(statistics.median(times) * 1000, 2),
                                        "p95_ms": round(percentile(times, 95) * 1000, 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqlite", default="/tmp/onevoice-bench/cases.db")
    parser.add_argument("--postgres", default=None, help="e.g. postgresql://postgres@127.0.0.1:5432/onevoice_bench")
    parser.add_argument("--cases", type=int, default=300_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    results = {"machine": machine()}
    targets = [("sqlite", f"sqlite:///{args.sqlite}")]
    Path(args.sqlite).parent.mkdir(parents=True, exist_ok=True)
    if args.postgres:
        targets.append(("postgresql", args.postgres))
    for name, url in targets:
        seeded_database(url)
        engine = make_engine(url)
        t = time.perf_counter()
        build(engine, args.cases, args.messages)
        engine.dispose()
        results[name] = {"build_seconds": round(time.perf_counter() - t, 1), **measure(url, args.runs, True)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
