"""Processing alone (no HTTP): how long each stage takes per message, embedded SQLite.

    python -m bench.bench_pipeline [--messages 20000] [--batch 200]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from bench.bench_intake import batches
from bench.common import machine, seeded_database
from onevoice.pipeline.intake import accept_batch
from onevoice.pipeline.processor import Outcome
from onevoice.runtime import build_runtime
from onevoice.settings import Settings
from onevoice.worker.runner import EmbeddedWorker


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/pipeline.db"
        seeded_database(url)
        runtime = build_runtime(Settings(database_url=url))
        started = time.perf_counter()
        for batch in batches(args.messages, 1000):
            with runtime.session_factory.begin() as s:
                accept_batch(s, batch)
        accept_seconds = time.perf_counter() - started
        processor = runtime.processor  # built before the clock starts: model loading is not processing
        worker = EmbeddedWorker(processor, runtime.session_factory, lambda _events: None, args.batch)
        total = Outcome()
        started = time.perf_counter()
        while True:
            outcome = worker.run_once()
            if not outcome.processed and not outcome.failed:
                break
            total.merge(outcome)
        seconds = time.perf_counter() - started
        n = len(total.processed)
        print(json.dumps({
            "machine": machine(), "messages": args.messages, "batch": args.batch,
            "accept_per_second": round(args.messages / accept_seconds),
            "process_per_second": round(n / seconds), "failed": len(total.failed),
            "ms_per_message_by_stage": {k: round(v / n * 1000, 3) for k, v in sorted(total.stages.items())},
        }, indent=2))


if __name__ == "__main__":
    main()
