"""This process's CPU for a report: at the service, and for the /reports page and GET /api/v1/reports through
the real app (in-process client), with the report's and the page rendering's share.

The report's parts are read one after the other in the session (no fan-out: on PostgreSQL they would run in
threads and the split would blur; the process's CPU is the same work), so the CPU counted is all this
process's, and the database's is not in it. The coordinator's 28 days ending on the set's last day, and
Support's manager's; --runs timed requests each after a warm-up. Run it with each version of the code, on the
same data, alternated (time.process_time is steadier than wall-clock time on a shared machine, not immune).

    python -m bench.report_cpu URL [--runs 15]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from bench.common import sign_in_for_reports
from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.cases.models import Case
from onevoice.db import make_engine, make_sessionmaker
from onevoice.reports import service, snapshot, views


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    snapshot._fanning = threading.BoundedSemaphore(1)  # taken: every report reads its parts in its session
    snapshot._fanning.acquire()
    engine = make_engine(args.url)
    read = make_sessionmaker(engine, readonly=True)
    with read() as s:
        last = s.scalar(select(func.max(Case.created_at))).date()
    start = last - timedelta(days=27)
    spent: collections.Counter = collections.Counter()

    def counted(name: str, fn):
        def run(*a, **kw):
            c = time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                spent[name] += time.thread_time() - c
        return run

    service.report = counted("report", service.report)
    views.render = counted("render", views.render)
    out: dict = {"load_before": os.getloadavg()[0]}
    emails = ("lead@demo.onevoice.test", "manager@demo.onevoice.test")
    for email in emails:
        with read() as s:
            who = principal_for(s, s.scalar(select(User).where(User.email == email)))

        def at_service(who=who):
            with read() as s:
                service.report(s, who, service.make_scope(s, who, start=start, end=last))

        out[f"service, {email.split('@')[0]}"] = _timed(at_service, args.runs, spent)
    out.update(_through_the_app(args.url, engine, emails, f"start={start}&end={last}", args.runs, spent))
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))
    engine.dispose()


def _timed(fn, runs: int, spent: collections.Counter) -> dict:
    fn()
    spent.clear()
    cpu = []
    for _ in range(runs):
        c = time.process_time()
        fn()
        cpu.append(time.process_time() - c)
    return {"cpu_p50_ms": round(statistics.median(cpu) * 1000, 1),
            **{f"{k}_cpu_mean_ms": round(v / runs * 1000, 1) for k, v in spent.items()}}


def _through_the_app(url: str, engine, emails, q: str, runs: int, spent) -> dict:
    from fastapi.testclient import TestClient

    from onevoice.app import create_app
    from onevoice.settings import Settings

    app = create_app(Settings(environment="development", database_url=url, embedded_worker=False, log_json=False),
                     start_worker=False)
    out = {}
    for email in emails:
        with TestClient(app) as client:
            token = sign_in_for_reports(client, engine, email, "report-cpu")
            who = email.split("@")[0]
            out[f"page /reports, {who}"] = _timed(lambda: client.get(f"/reports?{q}").raise_for_status(), runs, spent)
            bearer = {"Authorization": f"Bearer {token}"}
            out[f"GET /api/v1/reports, {who}"] = _timed(lambda bearer=bearer: client.get(
                f"/api/v1/reports?{q}", headers=bearer).raise_for_status(), runs, spent)
    return out


if __name__ == "__main__":
    main()
