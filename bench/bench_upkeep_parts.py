"""Where an upkeep pass's CPU goes, and whether its answers are the rebuild's. SQLite.

    python -m bench.bench_upkeep_parts phases MESSAGES EVERY   # ms CPU per pass in each part (wrapped, no profiler)
    python -m bench.bench_upkeep_parts fixed RUNS              # a pass covering 1, 10 and 100 messages (median)
    python -m bench.bench_upkeep_parts same KEPT.db REBUILT.db # every facts and per-day table, row for row

`phases` runs the traffic of `bench_reports --upkeep-only` with each part of the upkeep (the repository's
reads and writes, the fold, the aggregates' arithmetic) timed by process CPU around it; the parts nest
(plan and write hold the others). `same` compares two databases exactly, and the floating columns also to
1e-9 relative (the customers' advocacy sums are added in another order by a rebuild).
"""

from __future__ import annotations

import math
import sqlite3
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

READS = ("state", "event_top", "new_events", "processed_messages", "late_cases", "cases_of", "context",
         "stored_facts", "increments", "history", "sources")
WRITES = ("write_facts", "apply_deltas", "refresh_keys", "set_watermark")
TABLES = ("report_case_facts", "report_team_facts", "report_daily", "report_daily_volume", "report_daily_hist",
          "report_daily_team", "report_day_hist", "report_contact_days")


def timed(spent: dict[str, float], module, names) -> None:
    """Wrap these functions of `module` so that each call adds its CPU time to `spent[name]`. A name the module
    does not have (one version of the code against another) is left out."""
    for name in names:
        inner = getattr(module, name, None)
        if inner is None:
            continue

        def run(*args, _inner=inner, _name=name, **kwargs):
            started = time.process_time()
            try:
                return _inner(*args, **kwargs)
            finally:
                spent[_name] += time.process_time() - started
        setattr(module, name, run)


def phases(messages: int, every: int) -> None:
    import bench.bench_reports as bench
    from onevoice.reports import repository, upkeep

    spent: dict[str, float] = defaultdict(float)
    timed(spent, repository, (*READS, *WRITES))
    timed(spent, upkeep, ("fold_case", "contributions", "plan", "write", "upkeep_job", "processed_messages"))
    measured = upkeep.upkeep_job

    def job(factory):  # the bench's first pass starts the watermark after the seeding: not counted
        result = measured(factory)
        if bench.upkeep_job is job:
            spent.clear()
            bench.upkeep_job = measured
        return result
    bench.upkeep_job = job
    result = bench.upkeep_cost(Path("/tmp/upkeep-parts.db"), messages, every)
    passes = messages // every
    print({k: result[k] for k in ("processing_cpu_ms_per_message", "upkeep_cpu_share", "upkeep_cpu_ms_per_pass")})
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"{name:16s} {seconds / passes * 1000:7.2f} ms CPU per pass")


def fixed(runs: int) -> None:
    from bench.common import seeded_pipeline
    from onevoice.connectors.sandbox.traffic import SandboxTraffic
    from onevoice.db import unit_of_work
    from onevoice.ops import heap
    from onevoice.pipeline.intake import accept_batch
    from onevoice.reports.repository import context
    from onevoice.reports.upkeep import upkeep_job

    _engine, factory, processor = seeded_pipeline(Path("/tmp/upkeep-fixed.db"))
    traffic, channels = SandboxTraffic(5), ("sandbox-x", "sandbox-mastodon", "sandbox-mail", "sandbox-reviews")
    with factory() as s:
        context(s)
    heap.tune()
    for n in (1, 10, 100):
        cpu = []
        for _ in range(runs):
            with unit_of_work(factory) as s:
                ids = accept_batch(s, [traffic.next_message(channels[j % 4]) for j in range(n)]).new_ids
            processor.process(ids)
            started = time.process_time()
            result = upkeep_job(factory)
            cpu.append(time.process_time() - started)
        print(f"{n:4d} messages a pass: {statistics.median(cpu) * 1000:6.2f} ms CPU (median of {runs}), "
              f"{result.cases} cases in the last")


def same(kept: str, rebuilt: str) -> int:
    a, b = sqlite3.connect(kept), sqlite3.connect(rebuilt)
    unequal = 0
    for table in TABLES:
        info = list(a.execute(f"PRAGMA table_info({table})"))
        key = ", ".join(r[1] for r in sorted(info, key=lambda r: r[5]) if r[5])
        left, right = (list(db.execute(f"SELECT * FROM {table} ORDER BY {key}")) for db in (a, b))
        columns = sorted({info[i][1] for x, y in zip(left, right, strict=False) for i, (u, v) in enumerate(zip(x, y,
                                                                                                       strict=True))
                          if u != v})
        close = len(left) == len(right) and all(
            u == v or (isinstance(u, float) and isinstance(v, float) and math.isclose(u, v, rel_tol=1e-9))
            for x, y in zip(left, right, strict=True) for u, v in zip(x, y, strict=True))
        print(f"{table:22s} rows {len(left):6d} / {len(right):6d}  identical: {left == right}  "
              f"equal to 1e-9: {close}  columns that differ: {columns}")
        unequal += not close
    return unequal


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "phases":
        phases(int(rest[0]), int(rest[1]))
    elif command == "fixed":
        fixed(int(rest[0]))
    else:
        sys.exit(same(*rest))
