"""A report over long periods: the coordinator and Support's manager, 7 / 28 / 90 / 180 / 320 days ending on
the data set's last day, through the real app (in-process HTTP client, as bench_reports.http): page /reports,
GET /api/v1/reports and advocates.csv, `runs` requests after one warm-up each, p50 / p95; and the report at the
service (`service.report`, fresh read session each). The first answer of each JSON and CSV request is written to
`answers` (a directory) when given, to compare two versions of the code on the same data.

    python -m bench.bench_reports --long --keep --no-upkeep [--runs 20] [--answers DIR] --sqlite F --postgres URL

`--statements` instead: each statement's time in one report of Support's manager and the coordinator at 180
and 320 days (the parts read one after the other), the slowest first: where a long report's time goes.
"""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, func, select

from bench.bench_inbox import timed
from bench.common import percentile, sign_in_for_reports
from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.cases.models import Case
from onevoice.db import make_engine, make_sessionmaker
from onevoice.ops import heap
from onevoice.reports import service, snapshot
from onevoice.settings import Settings

PERIODS = (7, 28, 90, 180, 320)
PEOPLE = (("lead@demo.onevoice.test", "coordinator"), ("manager@demo.onevoice.test", "support manager"))


def _last_day(url: str):
    engine = make_engine(url)
    with make_sessionmaker(engine, readonly=True)() as s:
        last = s.scalar(select(func.max(Case.created_at))).date()
    engine.dispose()
    return last


def measure(url: str, runs: int, answers: str | None = None, periods=PERIODS, server_gc: bool = True) -> dict:
    """With `server_gc`, under the garbage collector's settings `onevoice serve` runs with (ops/heap.tune, set
    once the app is made, as serve does): under Python's defaults a full collection of the app's objects
    (150-190 ms at full size on the AMD EPYC host) fell in about one request of ten, the page's p95 at 320 days."""
    from fastapi.testclient import TestClient

    from onevoice.app import create_app

    last = _last_day(url)
    out: dict = {"last_day": str(last), "gc": "server (ops/heap.tune)" if server_gc else "default"}
    settings = Settings(environment="development", database_url=url, embedded_worker=False, log_json=False)
    app = create_app(settings, start_worker=False)
    if server_gc:
        heap.tune()
    engine = make_engine(url)
    read = make_sessionmaker(engine, readonly=True)
    with read() as s:
        people = {e: principal_for(s, s.scalar(select(User).where(User.email == e))) for e, _ in PEOPLE}
    for days in periods:
        start = last - timedelta(days=days - 1)
        for email, label in PEOPLE:
            def report(s, who=people[email], start=start):
                service.report(s, who, service.make_scope(s, who, start=start, end=last))

            out[f"service, {label}, {days} days"] = timed(read, report, runs)
    engine.dispose()
    kept = Path(answers) if answers else None
    if kept:
        kept.mkdir(parents=True, exist_ok=True)
    for email, label in PEOPLE:
        with TestClient(app) as client:
            engine = make_engine(url)
            token = sign_in_for_reports(client, engine, email, "bench-long")
            engine.dispose()
            bearer = {"Authorization": f"Bearer {token}"}
            for days in periods:
                q = f"start={last - timedelta(days=days - 1)}&end={last}"
                for name, path, headers in (("page /reports", f"/reports?{q}", {}),
                                            ("GET /api/v1/reports", f"/api/v1/reports?{q}", bearer),
                                            ("advocates.csv", f"/api/v1/reports/tables/advocates.csv?{q}", bearer)):
                    times = []
                    for i in range(runs + 1):
                        t = time.perf_counter()
                        r = client.get(path, headers=headers)
                        elapsed = time.perf_counter() - t
                        if r.status_code != 200 or (path.startswith("/reports?") and "data-view" not in r.text):
                            raise SystemExit(f"{path} answered {r.status_code}: {r.text[:300]}")
                        if i:
                            times.append(elapsed)
                        elif kept and not path.startswith("/reports?"):
                            slug = re.sub(r"\W+", "_", f"{label} {days} {name}").strip("_")
                            (kept / slug).write_text(r.text)
                    out[f"{name}, {label}, {days} days"] = {"p50_ms": round(statistics.median(times) * 1000, 1),
                                                            "p95_ms": round(percentile(times, 95) * 1000, 1)}
    return out


def statements(url: str, periods=(180, 320)) -> dict:
    """Each statement's time (before to after the driver's execute, the rows fetched with it) in one report
    after a warm-up, the parts one after the other (snapshot's fan-out taken, as report_statements does)."""
    snapshot._fanning = threading.BoundedSemaphore(1)
    snapshot._fanning.acquire()
    last = _last_day(url)
    engine = make_engine(url)
    read = make_sessionmaker(engine, readonly=True)
    log: list = []
    started: dict = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        started[id(cursor)] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        log.append((time.perf_counter() - started.pop(id(cursor)), " ".join(statement.split())[:160]))

    out: dict = {}
    with read() as s:
        people = {label: principal_for(s, s.scalar(select(User).where(User.email == e))) for e, label in PEOPLE}
    for days in periods:
        for label, who in people.items():
            start = last - timedelta(days=days - 1)
            for _ in range(2):  # the second one timed: the first warms the caches
                log.clear()
                t = time.perf_counter()
                with read() as s:
                    service.report(s, who, service.make_scope(s, who, start=start, end=last))
                total = time.perf_counter() - t
            ranked = sorted(log, reverse=True)
            out[f"{label}, {days} days"] = {
                "report_ms": round(total * 1000, 1), "statements": len(log),
                "statements_ms": round(sum(t for t, _ in log) * 1000, 1),
                "slowest": [[round(t * 1000, 1), sql] for t, sql in ranked[:12]]}
    engine.dispose()
    return out


def print_json(results: dict) -> str:
    return json.dumps(results, indent=1, default=str)
