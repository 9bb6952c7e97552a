"""A processing run's database, for comparing answers before and after a change (bench/README.md, round 6).

Takes in a fixed stream (sandbox traffic, seed 7, message times from a Friday 16:00 so that SLA calendars
cross a weekend), processes it with a fixed processing clock, and dumps every table as JSON:

    PYTHONPATH=<before checkout>/src:. python -m bench.processing_dump dump OUT.json [--messages 6000]
        [--batch 500] [--distinct]
    python -m bench.processing_dump diff A.json B.json

`diff` lists, per table and column, how many rows differ. Two runs of the same code differ only in the
columns that hold the wall clock (the seeded rows' times, `received_at`, conversations' and case_teams'
`created_at`/`added_at`, tokens and password hashes): compare that list, not an empty one.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta

from bench.bench_intake import CHANNELS
from bench.common import seeded_database
from onevoice.connectors.sandbox.traffic import SandboxTraffic
from onevoice.pipeline import processor as processor_module
from onevoice.pipeline.intake import accept_batch
from onevoice.runtime import build_runtime
from onevoice.settings import Settings
from onevoice.worker.runner import EmbeddedWorker

BASE = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


def dump(out: str, n: int, size: int, distinct: bool) -> None:
    clock = [BASE + timedelta(seconds=n // 4 + 60)]
    processor_module.utcnow = lambda: clock[0]  # the processing clock, fixed (this process only)
    traffic = SandboxTraffic(7)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/dump.db"
        seeded_database(url)
        runtime = build_runtime(Settings(database_url=url))
        for start in range(0, n, 1000):
            batch = []
            for i in range(start, min(n, start + 1000)):
                m = traffic.next_message(CHANNELS[i % 4], now=BASE + timedelta(seconds=i / 4))
                if distinct:
                    m["text"] = f"{m['text']} (ref {i})"
                batch.append(m)
            with runtime.session_factory.begin() as s:
                accept_batch(s, batch)
        worker = EmbeddedWorker(runtime.processor, runtime.session_factory, lambda _events: None, size)
        while True:
            outcome = worker.run_once()
            clock[0] += timedelta(seconds=1)
            if not outcome.processed and not outcome.failed:
                break
        runtime.dispose()
        db = sqlite3.connect(f"{tmp}/dump.db")
        tables = {}
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            cursor = db.execute(f'SELECT * FROM "{table}" ORDER BY 1')
            columns = [d[0] for d in cursor.description]
            tables[table] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        db.close()
    with open(out, "w", encoding="utf-8") as f:
        json.dump(tables, f, default=str)
    print(out, sum(len(rows) for rows in tables.values()), "rows")


def diff(a_path: str, b_path: str) -> None:
    with open(a_path, encoding="utf-8") as f:
        a = json.load(f)
    with open(b_path, encoding="utf-8") as f:
        b = json.load(f)
    for table in sorted(set(a) | set(b)):
        rows_a, rows_b = a.get(table, []), b.get(table, [])
        if len(rows_a) != len(rows_b):
            print(table, "rows", len(rows_a), len(rows_b))
            continue
        differing: dict[str, int] = {}
        for x, y in zip(rows_a, rows_b, strict=True):
            for column in sorted(set(x) | set(y)):
                if x.get(column) != y.get(column):
                    differing[column] = differing.get(column, 0) + 1
        for column, count in differing.items():
            print(table, column, count)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--messages", type=int, default=6000)
    d.add_argument("--batch", type=int, default=500)
    d.add_argument("--distinct", action="store_true", help="every text made unique")
    c = sub.add_parser("diff")
    c.add_argument("a")
    c.add_argument("b")
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.messages, args.batch, args.distinct)
    else:
        diff(args.a, args.b)


if __name__ == "__main__":
    main()
