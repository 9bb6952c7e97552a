"""Where the pipeline's triager spends its CPU on texts it has not seen: the fast path, the escalation layer's
static encoder, the sentiment transformer's runs and the rest, per message, over texts read from a file.

    .venv/bin/python -m bench.bench_triage_parts TEXTS_FILE [--n 20000] [--batch 500]

TEXTS_FILE holds one text a line (e.g. public tweets and support requests). The triager is the one the pipeline
builds by default (escalation on, with the sentiment transformer), in batches like the worker's; the first
batch warms it and is not counted. Each part is timed by wrapping the triager's own methods (CPU time of this
process), so what is reported is where one message's time goes, not a sampling estimate; the transformer's
cost is also given per run and per token, since only the messages its thresholds call unsure run it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter

from bench.bench_upkeep_parts import timed


def main() -> None:
    from onevoice.triage.factory import with_escalation
    from onevoice.triage.triager import FastTriager
    from onevoice.triage.types import TriageInput

    parser = argparse.ArgumentParser()
    parser.add_argument("texts", help="one text a line")
    parser.add_argument("--n", type=int, default=20_000, help="messages (texts in file order, each once)")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with open(args.texts, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()][: args.n + args.batch]
    items = [TriageInput(text=t, author_followers=100 * (i % 7), prior_messages=i % 4) for i, t in enumerate(texts)]
    triager = with_escalation(FastTriager())
    triager.warm()
    triager.triage_batch(items[: args.batch])
    transformer = triager._transformer
    by_name: Counter = Counter()  # CPU seconds by the wrapped method's name (each name is one part's)
    timed(by_name, triager.fast, ["triage_batch"])
    timed(by_name, triager._encoder, ["encode"])
    timed(by_name, triager._dense, ["matrix"])
    timed(by_name, triager, ["_second_opinion"])
    if transformer is not None:
        timed(by_name, transformer, ["probabilities", "_run"])
        runs0, hits0 = transformer.runs, transformer.cache_hits
    tokens = 0
    if transformer is not None:
        run = transformer._run

        def counting(key):
            nonlocal tokens
            tokens += len(key)
            return run(key)

        transformer._run = counting
    counted = items[args.batch:]
    escalated = sentiment_only = 0
    started = time.process_time()
    for s in range(0, len(counted), args.batch):
        for r in triager.triage_batch(counted[s:s + args.batch]):
            esc = r.scores.get("escalation")
            if esc:
                escalated += 1
                sentiment_only += bool(esc["sentiment_only"])
    total = time.process_time() - started
    n = len(counted)
    labels = {"triage_batch": "fast path", "encode": "escalation: static encoder",
              "matrix": "escalation: dense signals again", "_second_opinion": "escalation: second opinion",
              "probabilities": "transformer: all", "_run": "transformer: onnxruntime runs"}
    spent = {labels[name]: seconds for name, seconds in by_name.items()}
    us = {k: round(v / n * 1e6, 1) for k, v in spent.items()}
    parts = {
        "fast path": us.get("fast path", 0.0),
        "transformer: onnxruntime runs": us.get("transformer: onnxruntime runs", 0.0),
        "transformer: tokens and cache": round(us.get("transformer: all", 0.0)
                                               - us.get("transformer: onnxruntime runs", 0.0), 1),
        "escalation: static encoder": us.get("escalation: static encoder", 0.0),
        "escalation: dense signals again": us.get("escalation: dense signals again", 0.0),
        "escalation: second opinion": us.get("escalation: second opinion", 0.0),
    }
    parts["escalation: the rest (unsure, plainly, heads)"] = round(total / n * 1e6 - sum(parts.values()), 1)
    out = {"messages": n, "batch": args.batch, "cpu_us_per_message": round(total / n * 1e6, 1),
           "parts_us_per_message": parts, "escalated": escalated, "escalated_for_sentiment_only": sentiment_only}
    if transformer is not None:
        runs = transformer.runs - runs0
        out |= {"transformer_runs": runs, "transformer_cache_hits": transformer.cache_hits - hits0,
                "transformer_us_per_run": round(spent.get("transformer: onnxruntime runs", 0.0) / max(runs, 1) * 1e6),
                "transformer_tokens_per_run": round(tokens / max(runs, 1), 1)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
