"""The reports' speed: page and API server time over a large organization, and the upkeep's cost.

1. A data set (bench/dataset.py) at the density of 300,000 cases over 320 days (~940 cases a day): by
   default 60,000 cases and 200,000 messages over 64 days, so a 28-day report reads as many rows as it
   would at full size. The facts are built with `reports.upkeep.rebuild` (timed).
2. Server time, p50/p95 over --runs after a warm-up, fresh read session each: the service behind
   /reports for a coordinator (every team) and Support's manager, the cases behind a figure; then the
   rendered /reports page and GET /api/v1/reports through the real app (in-process HTTP client).
3. Upkeep against throughput: --pipeline messages from the demo traffic through the real pipeline
   (processing time), then one upkeep pass over the cases they touched (its time), as a share.

    python -m bench.bench_reports [--cases 60000] [--messages 200000] [--days 64] [--postgres URL] [--runs 30]
        [--full] [--no-upkeep] [--no-sqlite] [--upkeep-only --pipeline 600 [--upkeep-every 100]]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.bench_inbox import timed
from bench.common import machine, percentile, seeded_database, sign_in_for_reports
from bench.dataset import build
from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.cases.models import Case
from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.ops import heap
from onevoice.reports import service
from onevoice.reports.models import CaseFacts
from onevoice.reports.repository import context as report_context
from onevoice.reports.upkeep import rebuild, upkeep_job
from onevoice.settings import Settings

HERE = Path(__file__).parent


def measure(url: str, args) -> dict:
    engine = make_engine(url)
    kept = args.keep and _built(engine, args.cases)
    built = rebuilt = n = None
    if not kept:
        # _built's look opened a pooled connection: on SQLite it would keep the file being unlinked here.
        engine.dispose()
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        seeded_database(url)
        t = time.perf_counter()
        build(engine, cases=args.cases, messages=args.messages, days=args.days)
        built = round(time.perf_counter() - t, 1)
        factory = make_sessionmaker(engine)
        t = time.perf_counter()
        n = rebuild(factory)
        rebuilt = round(time.perf_counter() - t, 1)
    read = make_sessionmaker(engine, readonly=True)
    with read() as s:
        last = s.scalar(select(func.max(Case.created_at))).date()
        people = {e: principal_for(s, s.scalar(select(User).where(User.email == e)))
                  for e in ("lead@demo.onevoice.test", "manager@demo.onevoice.test")}
    out = {"cases": args.cases, "messages": args.messages, "days": args.days, "build_s": built,
           "rebuild_s": rebuilt, "rebuild_cases": n, "kept_data_set": kept}
    start = last - timedelta(days=27)
    for label, who in (("coordinator", people["lead@demo.onevoice.test"]),
                       ("support manager", people["manager@demo.onevoice.test"])):
        def report(s, who=who):
            service.report(s, who, service.make_scope(s, who, start=start, end=last))

        def drill(s, who=who):
            service.cases_behind(s, who, service.make_scope(s, who, start=start, end=last), "resolved")

        out[f"report 28 days, {label}"] = timed(read, report, args.runs)
        out[f"cases behind 'resolved', {label}"] = timed(read, drill, args.runs)
    out.update(http(url, start, last, args.runs))
    engine.dispose()
    return out


def _built(engine, cases: int) -> bool:
    """Whether this database already holds the data set with its facts (--keep: measure it again)."""
    try:
        with engine.connect() as conn:
            have = conn.execute(select(func.count()).select_from(CaseFacts)).scalar()
    except Exception:  # noqa: BLE001 - no such table yet: a new database
        return False
    return have >= cases


def http(url: str, start, end, runs: int) -> dict:
    from fastapi.testclient import TestClient

    from onevoice.app import create_app

    settings = Settings(environment="development", database_url=url, embedded_worker=False, log_json=False)
    app = create_app(settings, start_worker=False)
    out = {}
    for email, label in (("lead@demo.onevoice.test", "coordinator"), ("manager@demo.onevoice.test", "support manager")):
        with TestClient(app) as client:
            engine = make_engine(url)
            token = sign_in_for_reports(client, engine, email, "bench-reports")
            engine.dispose()
            q = f"start={start}&end={end}"
            bearer = {"Authorization": f"Bearer {token}"}
            for name, path, headers in (
                    ("page /reports", f"/reports?{q}", {}),
                    ("page /reports/cases?figure=resolved", f"/reports/cases?{q}&figure=resolved", {}),
                    ("GET /reports/export/daily.csv", f"/reports/export/daily.csv?{q}", {}),
                    ("GET /api/v1/reports", f"/api/v1/reports?{q}", bearer),
                    ("GET /api/v1/reports/cases?figure=resolved", f"/api/v1/reports/cases?{q}&figure=resolved",
                     bearer),
                    ("GET /api/v1/reports/tables/advocates.csv", f"/api/v1/reports/tables/advocates.csv?{q}",
                     bearer)):
                times = []
                for i in range(runs + 1):
                    t = time.perf_counter()
                    r = client.get(path, headers=headers)
                    if r.status_code != 200 or (path.startswith("/reports?") and "data-view" not in r.text):
                        raise SystemExit(f"{path} answered {r.status_code}: {r.text[:300]}")
                    if i:
                        times.append(time.perf_counter() - t)
                out[f"{name}, {label}"] = {"p50_ms": round(statistics.median(times) * 1000, 1),
                                           "p95_ms": round(percentile(times, 95) * 1000, 1)}
    return out


def upkeep_cost(tmp: Path, messages: int, every: int = 100, server_gc: bool = True) -> dict:
    """Processing time of `messages` demo messages through the real pipeline in batches of 100, and an
    upkeep pass after every `every` messages (the scheduler runs one every 10 s: at 50 messages a second,
    one per 500). `server_gc`: under the garbage collector's settings `onevoice serve` runs with (its
    scheduler runs the upkeep; ops/heap.py), set after the set-up as serve does; else Python's defaults."""
    from onevoice.connectors.sandbox.traffic import SandboxTraffic
    from onevoice.pipeline.intake import accept_batch
    from onevoice.runtime import build_processor

    url = f"sqlite:///{tmp}"
    tmp.unlink(missing_ok=True)
    seeded_database(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    settings = Settings(environment="development", database_url=url)
    processor = build_processor(settings, factory, worker="bench")
    traffic = SandboxTraffic(5)
    channels = ("sandbox-x", "sandbox-mastodon", "sandbox-mail", "sandbox-reviews")
    upkeep_job(factory)  # the watermark starts after the seeding
    with factory() as s:
        # The playbook's SLA calendars are parsed once per process and playbook text (0.1-0.3 s here), not
        # per pass: the earlier runs counted that parse in the first measured pass.
        report_context(s)
    if server_gc:
        heap.tune()
    processing = upkeeping = processing_cpu = upkeeping_cpu = 0.0
    folded = cases = 0
    locks: list[float] = []
    done = 0
    for _ in range(0, messages, 100):
        items = [traffic.next_message(channels[j % 4]) for j in range(100)]
        with unit_of_work(factory) as s:
            ids = accept_batch(s, items).new_ids
        t, c = time.perf_counter(), time.process_time()
        processor.process(ids)
        processing += time.perf_counter() - t
        processing_cpu += time.process_time() - c
        done += len(items)
        if done % every:
            continue
        t, c = time.perf_counter(), time.process_time()
        result = upkeep_job(factory)  # as the scheduler would, between batches
        upkeeping += time.perf_counter() - t
        upkeeping_cpu += time.process_time() - c
        folded, cases = folded + getattr(result, "folded", 0), cases + result.cases
        # The write lock: held by the whole pass before the upkeep read outside it (`locked_s` absent).
        locks.append(getattr(result, "locked_s", time.perf_counter() - t))
    engine.dispose()
    # CPU time (this process, every thread) is the steadier figure on a shared machine: wall-clock time
    # includes waiting for the other engineers' processes.
    return {"messages": messages, "upkeep_every": every, "gc": "server (ops/heap.tune)" if server_gc else "default",
            "processing_ms_per_message": round(processing / messages * 1000, 2),
            "upkeep_ms_per_message": round(upkeeping / messages * 1000, 2),
            "upkeep_share_of_processing": round(upkeeping / processing, 3),
            "processing_cpu_ms_per_message": round(processing_cpu / messages * 1000, 2),
            "upkeep_cpu_ms_per_message": round(upkeeping_cpu / messages * 1000, 2),
            "upkeep_cpu_share": round(upkeeping_cpu / processing_cpu, 3),
            "upkeep_cpu_ms_per_pass": round(upkeeping_cpu / len(locks) * 1000, 1),
            "cases_refreshed": cases, "cases_folded": folded,
            "write_lock_ms_per_pass_mean": round(statistics.mean(locks) * 1000, 1),
            "write_lock_ms_per_pass_max": round(max(locks) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=60_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=64)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sqlite", default=str(HERE / ".data" / "reports.db"))
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--pipeline", type=int, default=2000)
    parser.add_argument("--upkeep-every", type=int, default=100, help="messages between upkeep passes")
    parser.add_argument("--upkeep-only", action="store_true", help="only the upkeep against throughput")
    parser.add_argument("--default-gc", action="store_true",
                        help="the upkeep bench and --long under Python's garbage collector defaults, not the server's")
    parser.add_argument("--no-upkeep", action="store_true", help="skip the upkeep against throughput")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL (with --postgres)")
    parser.add_argument("--keep", action="store_true",
                        help="measure the data set already in the databases (built by an earlier run) again")
    parser.add_argument("--out", default=str(HERE / "results-reports.json"))
    parser.add_argument("--full", action="store_true",
                        help="the issue's size: 1,000,000 messages, 300,000 cases over 320 days")
    parser.add_argument("--long", action="store_true",
                        help="only the long periods (bench/reports_long.py): 7-320 days, page, JSON, advocates.csv")
    parser.add_argument("--answers", default=None, help="with --long: a directory for the first JSON and CSV answers")
    parser.add_argument("--statements", action="store_true",
                        help="only each statement's time in one long report (bench/reports_long.py)")
    args = parser.parse_args()
    if args.long or args.statements:
        from bench import reports_long

        urls = ([] if args.no_sqlite else [("sqlite", f"sqlite:///{args.sqlite}")]) + (
            [("postgresql", args.postgres)] if args.postgres else [])
        results = {"machine": machine()}
        for name, url in urls:
            results[name] = (reports_long.statements(url) if args.statements else reports_long.measure(
                url, args.runs, args.answers and str(Path(args.answers) / name), server_gc=not args.default_gc))
        text = reports_long.print_json(results)
        print(text)
        Path(args.out).write_text(text + "\n")
        return
    if args.upkeep_only:
        Path(args.sqlite).parent.mkdir(parents=True, exist_ok=True)
        print(json.dumps(upkeep_cost(Path(args.sqlite).with_name("upkeep.db"), args.pipeline,
                                     args.upkeep_every, not args.default_gc), indent=1))
        return
    if args.full:
        args.cases, args.messages, args.days = 300_000, 1_000_000, 320
    Path(args.sqlite).parent.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine()}
    if not args.no_upkeep:
        results["upkeep"] = upkeep_cost(Path(args.sqlite).with_name("upkeep.db"), args.pipeline, args.upkeep_every)
    if not args.no_sqlite:
        results["sqlite"] = measure(f"sqlite:///{args.sqlite}", args)
    if args.postgres:
        results["postgresql"] = measure(args.postgres, args)
    text = json.dumps(results, indent=1, default=str)
    print(text)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
