"""The inbox pages' server time with 1,000,000 messages and 300,000 cases (issue 4: p95 < 100 ms).

Measures what the page routes call (queue page with rows, rail counts, case page) in a fresh read
session each time, for a coordinator (every team) and a support responder, on SQLite (and PostgreSQL);
then the rendered pages themselves through the real app (`create_app`, signed in, in-process HTTP client):
the inbox views and case pages, templates included. A page that does not answer 200 stops the benchmark:
timing service calls alone once hid that every case page of this data set answered 500 (issue 10).

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
from onevoice.cases.models import Case, CaseTeam
from onevoice.db import make_engine, make_sessionmaker
from onevoice.demo.seed import DEMO_PASSWORD
from onevoice.desk.page import case_page
from onevoice.inbox.filters import Filters
from onevoice.inbox.service import queue_page, rail
from onevoice.settings import Settings
from onevoice.teams.models import Team

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
        support = s.scalar(select(Team.id).where(Team.key == "support"))
        support_ids = list(s.scalars(select(CaseTeam.case_id).where(CaseTeam.team_id == support)
                                     .order_by(CaseTeam.case_id.desc()).limit(runs)))
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
    out.update(measure_pages(url, {"lead": case_ids, "support": support_ids}, runs))
    return out


def measure_pages(url: str, case_ids: dict[str, list[int]], runs: int) -> dict:
    """Whole requests through the app, as a signed-in browser makes them (client-side time, in process)."""
    from urllib.parse import urlencode

    from fastapi.testclient import TestClient
    from tests.web.helpers import sign_in

    from onevoice.app import create_app

    app = create_app(Settings(database_url=url, environment="test", log_json=False), start_worker=False)
    out = {}
    with TestClient(app) as client:
        for email in ("lead@demo.onevoice.test", "support@demo.onevoice.test"):
            client.cookies.clear()
            assert sign_in(client, email, DEMO_PASSWORD).status_code == 303, f"cannot sign in as {email}"
            who = email.split("@")[0]
            for queue, params in VIEWS:
                path = "/inbox?" + urlencode({"queue": queue, **params})
                out[f"page {who} {path}"] = timed_get(client, lambda p=path: p, runs)
            it = iter(case_ids[who] * 2)  # cases this person sees: their newest
            out[f"page {who} /cases/{{id}}"] = timed_get(client, lambda i=it: f"/cases/{next(i)}", runs)
    app.state.runtime.dispose()
    return out


def timed_get(client, path, runs: int) -> dict:
    times = []
    for i in range(runs):
        target = path()
        t = time.perf_counter()
        r = client.get(target)
        elapsed = time.perf_counter() - t
        if r.status_code != 200:
            raise SystemExit(f"GET {target} answered {r.status_code}: {r.text[:500]}")
        if i:
            times.append(elapsed)
    return {"p50_ms": round(statistics.median(times) * 1000, 2), "p95_ms": round(percentile(times, 95) * 1000, 2)}


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
