"""Processing alone (no HTTP): how long each stage takes per message, embedded SQLite.

    python -m bench.bench_pipeline [--messages 20000] [--batch 200] [--seed 1]

Also reported: CPU per message processed (steadier than the rate on a loaded machine), and how many messages
reached the sentiment transformer, in how many distinct texts, and how many of those it actually ran (the
rest were answered from its kept answers).
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time

from bench.bench_intake import batches
from bench.common import machine, seeded_database
from onevoice.ops import heap
from onevoice.pipeline.intake import accept_batch
from onevoice.pipeline.processor import Outcome
from onevoice.runtime import build_runtime
from onevoice.settings import Settings
from onevoice.triage import transformer
from onevoice.worker.runner import EmbeddedWorker


def count_transformer() -> tuple[collections.Counter, list[int]]:
    """Wrap the sentiment transformer so that this process counts the texts it is given and the runs it does."""
    texts: collections.Counter = collections.Counter()
    runs = [0]
    given, run = transformer.SentimentTransformer.probabilities, transformer.SentimentTransformer._run

    def probabilities(self, batch):
        texts.update(batch)
        return given(self, batch)

    def counted_run(self, key):
        runs[0] += 1
        return run(self, key)
    transformer.SentimentTransformer.probabilities = probabilities
    transformer.SentimentTransformer._run = counted_run
    return texts, runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1, help="the traffic's seed (bench_webhooks' batched part: 7)")
    parser.add_argument("--plain-gc", action="store_true", help="the collector's defaults, not the worker's")
    parser.add_argument("--distinct", action="store_true",
                        help="every text made unique (' (ref N)' appended): no two messages share a text, so "
                             "nothing kept per text is ever reused (the traffic is templates times products)")
    args = parser.parse_args()
    read, runs = count_transformer()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/pipeline.db"
        seeded_database(url)
        runtime = build_runtime(Settings(database_url=url))
        started = time.perf_counter()
        for n, batch in enumerate(batches(args.messages, 1000, seed=args.seed)):
            if args.distinct:
                for i, m in enumerate(batch):
                    m["text"] = f"{m['text']} (ref {n * 1000 + i})"
            with runtime.session_factory.begin() as s:
                accept_batch(s, batch)
        accept_seconds = time.perf_counter() - started
        processor = runtime.processor  # built before the clock starts: model loading is not processing
        # As a worker process runs (cli/serving.py): the collector tuned, what the first batch loads frozen.
        worker = EmbeddedWorker(processor, runtime.session_factory, lambda _events: None, args.batch,
                                freeze_after_warm_up=not args.plain_gc)
        if not args.plain_gc:
            heap.tune()
        total = Outcome()
        started, cpu = time.perf_counter(), time.process_time()
        while True:
            outcome = worker.run_once()
            if not outcome.processed and not outcome.failed:
                break
            total.merge(outcome)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        n = len(total.processed)
        print(json.dumps({
            "machine": machine(), "messages": args.messages, "batch": args.batch, "distinct": args.distinct,
            "accept_per_second": round(args.messages / accept_seconds),
            "process_per_second": round(n / seconds), "failed": len(total.failed),
            "cpu_ms_per_message": round(cpu / n * 1000, 3),
            "transformer": {"messages": sum(read.values()), "distinct_texts": len(read), "runs": runs[0]},
            "ms_per_message_by_stage": {k: round(v / n * 1000, 3) for k, v in sorted(total.stages.items())},
        }, indent=2))


if __name__ == "__main__":
    main()
