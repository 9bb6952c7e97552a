"""One catch-up upkeep pass over a minute of saturated traffic: its CPU per message folded, and the write lock.

Under sustained saturation the scheduler's upkeep waits while the pipeline is behind, and runs once its last
pass is a minute old (reports/upkeep.py, `upkeep_job`): each run folds ~60,000-90,000 messages' events at once.
This measures that one run on a fixed database, so that two versions of the code can be compared on the
same events (SQLite, the server's garbage-collector settings).

    python -m bench.bench_upkeep_catchup prepare DB [--history 60000] [--messages 70000] [--late 10]
    python -m bench.bench_upkeep_catchup pass DB [--runs 3] [--profile FILE] [--phases]

`prepare`: the demo organization, then `--history` messages of the batched API's demo traffic (seed 7, as
`bench_webhooks --parts batch`) processed by the real pipeline and folded by one upkeep run (the facts a
pass starts from), then `--messages` more processed with no upkeep (the minute it catches up on). `--late N`:
the history's last 2N batches come from two senders taking turns, and the first one's N batches are stored after
the history's pass (before the `--messages`), so that the pass meets late messages as the server's do.
`pass`: for each run, a copy of DB (`sqlite3` backup) and one `upkeep_job` on it, timed by process CPU
(every thread) and wall clock; `--profile` writes a cProfile of the last run (CPU clock), `--phases` the
CPU of each part (the repository's reads and writes, the fold, the aggregates' arithmetic; they nest; a
part that is a generator, main's `repository.processed_messages`, shows ~0: its reading is counted in `plan`).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.bench_upkeep_parts import READS, WRITES, timed
from bench.common import SANDBOX_CHANNELS, seeded_pipeline
from onevoice.connectors.sandbox.traffic import SandboxTraffic
from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.ops import heap
from onevoice.pipeline.intake import accept_batch
from onevoice.reports import repository, upkeep
from onevoice.reports.repository import context


def prepare(db: Path, history: int, messages: int, size: int = 500, late: int = 0) -> dict:
    engine, factory, processor = seeded_pipeline(db)
    traffic = SandboxTraffic(7)
    heap.tune()
    out = {}

    def process(items: list[dict]) -> None:
        with unit_of_work(factory) as s:
            ids = accept_batch(s, items).new_ids
        processor.process(ids)

    held: list[list[dict]] = []
    for label, count in (("history", history), ("messages", messages)):
        started = time.perf_counter()
        if label == "messages":  # the held batches first: stored after the watermark, older than what it folded
            for items in held:
                process(items)
        batches = range(0, count, size)
        for n, sent in enumerate(batches):
            items = [traffic.next_message(SANDBOX_CHANNELS[(sent + i) % 4]) for i in range(min(size, count - sent))]
            # `late`: in the history's last 2 x late batches two senders alternate, and the first one's batches
            # are stored after the pass that ends the history (the server's late messages: one sender's batches
            # stored after another's, with a pass between; bench/README.md, "where the 2.7x goes").
            if label == "history" and n >= len(batches) - 2 * late and (len(batches) - n) % 2 == 0:
                held.append(items)
                continue
            process(items)
        out[f"{label}_processed_s"] = round(time.perf_counter() - started, 1)
        if label == "history":
            out["history_upkeep_cases"] = upkeep.upkeep_job(factory).cases
            out["held_messages"] = sum(len(b) for b in held)
    engine.dispose()
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        out.update(_counts(c))
    return out


def _counts(c: sqlite3.Connection) -> dict:
    mark = c.execute("SELECT last_event_id FROM report_state WHERE key = 'facts'").fetchone()[0]
    return {"events_past_watermark": c.execute("SELECT count(*) FROM events WHERE id > ?", (mark,)).fetchone()[0],
            "messages_past_watermark": c.execute(
                "SELECT count(*) FROM events WHERE id > ? AND kind = 'message.processed'", (mark,)).fetchone()[0],
            "cases_past_watermark": c.execute(
                "SELECT count(DISTINCT case_id) FROM events WHERE id > ?", (mark,)).fetchone()[0],
            # messages past the watermark not after their case's stored last one: the fold places them
            "late_messages": c.execute(
                "SELECT count(*) FROM events e JOIN messages m ON m.id = e.message_id JOIN report_case_facts f "
                "ON f.case_id = m.case_id WHERE e.id > ? AND e.kind = 'message.processed' "
                "AND m.created_at <= f.last_message_at", (mark,)).fetchone()[0],
            "cases": c.execute("SELECT count(*) FROM cases").fetchone()[0],
            "contacts": c.execute("SELECT count(*) FROM contacts").fetchone()[0]}


def _phases() -> dict[str, float]:
    spent: dict[str, float] = defaultdict(float)
    timed(spent, repository, (*READS, *WRITES))
    # processed_messages: in upkeep since uk5 (reports/processed.py; before, a generator of the repository).
    timed(spent, upkeep, ("fold_case", "contributions", "plan", "write", "case_facts", "processed_messages"))
    return spent


def one_pass(db: Path, runs: int, profile: str | None, phases: bool) -> dict:
    spent = _phases() if phases else None
    results = []
    with sqlite3.connect(db) as c:
        counts = _counts(c)
    for run in range(runs):
        with tempfile.TemporaryDirectory(dir=os.environ.get("UPKEEP_TMP")) as tmp:
            copy = Path(tmp) / "copy.db"
            with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
                src.backup(dst)
            engine = make_engine(f"sqlite:///{copy}")
            factory = make_sessionmaker(engine)
            with factory() as s:
                context(s)  # the playbook's calendars are parsed once per process, not per pass
            heap.tune()
            if spent is not None:
                spent.clear()
            prof = cProfile.Profile(time.process_time) if profile and run == runs - 1 else None
            t, c = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            result = upkeep.upkeep_job(factory)
            if prof:
                prof.disable()
                prof.dump_stats(profile)
            cpu, wall = time.process_time() - c, time.perf_counter() - t
            engine.dispose()
            with sqlite3.connect(copy) as check:
                left = _counts(check)["events_past_watermark"]
            results.append({"cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
                            "cpu_ms_per_message": round(cpu * 1000 / counts["messages_past_watermark"], 4),
                            "cases": result.cases, "folded": result.folded,
                            "recomputed": result.cases - result.folded,
                            "locked_s": round(getattr(result, "locked_s", 0.0), 3), "events_left": left,
                            **({"phases_cpu_s": {k: round(v, 3) for k, v in
                                                 sorted(spent.items(), key=lambda kv: -kv[1])}} if spent else {})})
    per = [r["cpu_ms_per_message"] for r in results]
    return {**counts, "load": os.getloadavg()[0],
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "batch_events": upkeep.BATCH_EVENTS, "runs": results, "cpu_ms_per_message_median": statistics.median(per)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("prepare", "pass"))
    parser.add_argument("db", type=Path)
    parser.add_argument("--history", type=int, default=60_000)
    parser.add_argument("--messages", type=int, default=70_000)
    parser.add_argument("--late", type=int, default=0,
                        help="prepare: the history's last 2 x LATE batches from two senders, one stored late")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile")
    parser.add_argument("--phases", action="store_true")
    parser.add_argument("--batch-events", type=int, help="upkeep.BATCH_EVENTS for this run (an experiment)")
    args = parser.parse_args()
    if args.command == "prepare":
        print(json.dumps(prepare(args.db, args.history, args.messages, late=args.late), indent=1))
    else:
        if args.batch_events:
            upkeep.BATCH_EVENTS = args.batch_events
        print(json.dumps(one_pass(args.db, args.runs, args.profile, args.phases), indent=1))


if __name__ == "__main__":
    main()
