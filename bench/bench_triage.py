"""Triage benchmarks: throughput in batches and one at a time on one core, cold start, and quality.

    .venv/bin/python bench/bench_triage.py [--n 20000] [--repeat 1] [--data ../shared/data]
    .venv/bin/python bench/bench_triage.py --answers new.jsonl      # every TriageResult of a fixed corpus
    .venv/bin/python bench/bench_triage.py --compare old.jsonl new.jsonl

Texts are the public validation tweets and the seed set (real, varied lengths), cycled to --n.
Quality is the full fast path (heads + rules) on the validation splits in ../shared/data.
`--answers` writes the full result of ~12,000 distinct messages (TweetEval texts, demo posts and a few
edge cases, with varied reach and repetition, a product catalog) so that two versions of the code can be
compared answer for answer: run it with each (`git archive <commit> src | tar -x -C /tmp/old`, then
`PYTHONPATH=/tmp/old/src`), with the same PYTHONHASHSEED (the order of a word's n-grams in a set, and so
the float32 summation order, follows the string hash seed; two seeds alone move ~1 in 10,000 confidences
in the 4th decimal).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

COLD = ("import time; t=time.perf_counter(); from onevoice.triage.triager import FastTriager; "
        "from onevoice.triage.types import TriageInput; tr=FastTriager(); tr.triage(TriageInput(text='hi there'));"
        " print(time.perf_counter()-t)")


def texts_for(data: Path, n: int) -> list[str]:
    from onevoice.triage import datasets

    pool = [r["text"] for r in datasets.read_seed()]
    for task in ("sentiment", "offensive", "hate", "emotion"):
        p = data / "tweeteval" / task / "val_text.txt"
        if p.is_file():
            pool += p.read_text(encoding="utf-8").splitlines()
    return [pool[i % len(pool)] for i in range(n)]


def brand_mix(data: Path, n: int) -> list[str]:
    """Half demo traffic (brand-directed posts from the sandbox generator), half public tweets."""
    from onevoice.connectors.sandbox.traffic import SandboxTraffic

    demo = [m["text"] for m in SandboxTraffic(7).next_batch("x", n // 2)]
    tweets = texts_for(data, n // 2)
    return [t for pair in zip(demo, tweets, strict=False) for t in pair]


def throughput(texts: list[str], repeat: int = 1) -> dict:
    """Rates in batches of 500 and one message at a time. With repeat > 1 the timed loops run again
    (caches then warm) and the best pass is reported too: on a shared machine the least disturbed pass
    is the closest to what a free core does."""
    from onevoice.triage.triager import FastTriager
    from onevoice.triage.types import TriageInput

    tr = FastTriager(catalog=[{"key": "voltix-v3", "name": "Voltix V3"}, {"key": "nimbus", "name": "Nimbus Docs"}])
    items = [TriageInput(text=t) for t in texts]
    tr.triage_batch(items[:500])  # warm the word cache the way a running worker has it
    single_items = items[: max(2000, len(items) // 5)]
    passes = []
    for _ in range(max(repeat, 1)):
        # Wall clock, and CPU time of this process: on a shared, loaded machine the second is what one core
        # can do (the first also counts the time other processes held the core).
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(items), 500):
            tr.triage_batch(items[i:i + 500])
        batch, batch_cpu = len(items) / (time.perf_counter() - t0), len(items) / (time.process_time() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        for it in single_items:
            tr.triage_batch([it])
        single = len(single_items) / (time.perf_counter() - t0)
        single_cpu = len(single_items) / (time.process_time() - c0)
        passes.append((batch, batch_cpu, single, single_cpu))
    batch, batch_cpu, single, single_cpu = passes[0]
    out = {"batch_per_s": round(batch), "single_per_s": round(single), "batch_per_cpu_s": round(batch_cpu),
           "single_per_cpu_s": round(single_cpu), "n": len(items),
           "mean_chars": round(sum(map(len, texts)) / len(texts))}
    if repeat > 1:
        best = [round(max(p[k] for p in passes)) for k in range(4)]
        out["best_of"] = dict(zip(("batch_per_s", "batch_per_cpu_s", "single_per_s", "single_per_cpu_s"), best,
                                  strict=True), passes=repeat)
    return out


CATALOG = [{"key": "voltix-v3", "name": "Voltix V3"}, {"key": "nimbus", "name": "Nimbus Docs", "aliases": ["nimbus"]},
           {"key": "aero-phone-5", "name": "Aero Phone 5", "aliases": ["aerophone"]},
           {"key": "aero-buds", "name": "Aero Buds"}, {"key": "smarthome-hub", "name": "SmartHome Hub"},
           {"key": "nimbus-cloud", "name": "Nimbus Cloud"}, {"key": "nimbus-router", "name": "Nimbus Router"},
           {"key": "iphone", "name": "iPhone"}]
EDGE_CASES = [
    "", "   ", "👍", "call me on +44 7700 900123", "card 4111 1111 1111 1111 please", "I live at 12 Baker Street",
    "email me ana@example.com", "10 rue de Rivoli Paris", "#VoltixV3 caught fire!!", "voltx v3 is broken",
    "İ'LL KILL YOU", "Nimbus Docs is down again", "NIMBUSDOCS crashed", "my nimbus doc", "je vais porter plainte",
    "Mi pedido nunca llegó, quiero un reembolso", "SW1A 1AA", "Springfield, IL 62704", "2024-01-02 order 1234567",
]


def answer_corpus(data: Path) -> list:
    """~12,000 distinct messages with varied reach and repetition (fixed, so two runs are comparable)."""
    import random

    from onevoice.connectors.sandbox.traffic import SandboxTraffic
    from onevoice.triage.types import TriageInput

    tweets: list[str] = []
    for task, split in (("sentiment", "val"), ("offensive", "val"), ("hate", "val"), ("emotion", "val"),
                        ("hate", "train"), ("offensive", "train")):
        path = data / "tweeteval" / task / f"{split}_text.txt"
        if path.is_file():
            tweets += path.read_text(encoding="utf-8").splitlines()
    texts = list(dict.fromkeys(tweets))[:10000]
    texts += [m["text"] for m in SandboxTraffic(7).next_batch("x", 2000)] + EDGE_CASES
    rnd = random.Random(3)
    return [TriageInput(text=t, author_followers=rnd.choice([0, 50, 20000, 200000]),
                        prior_messages=rnd.choice([0, 0, 3])) for t in texts]


def write_answers(data: Path, out: Path) -> None:
    """Every TriageResult of the corpus in batches of 500, then every 7th message alone (batch and single
    must agree too), one JSON object a line."""
    from onevoice.triage.triager import FastTriager

    items = answer_corpus(data)
    tr = FastTriager(catalog=CATALOG)
    with out.open("w", encoding="utf-8") as f:
        for i in range(0, len(items), 500):
            for r in tr.triage_batch(items[i:i + 500]):
                f.write(json.dumps({"mode": "batch", **r.to_dict()}, sort_keys=True, ensure_ascii=False) + "\n")
        for i in range(0, len(items), 7):
            r = tr.triage(items[i])
            f.write(json.dumps({"mode": "single", **r.to_dict()}, sort_keys=True, ensure_ascii=False) + "\n")


def compare_answers(a: Path, b: Path) -> dict:
    old, new = a.read_text(encoding="utf-8").splitlines(), b.read_text(encoding="utf-8").splitlines()
    if len(old) != len(new):
        raise SystemExit(f"different corpora: {len(old)} vs {len(new)} answers")
    diffs = []
    for i, (x, y) in enumerate(zip(old, new, strict=True)):
        if x != y:
            dx, dy = json.loads(x), json.loads(y)
            diffs.append({"line": i, "fields": {k: [dx.get(k), dy.get(k)] for k in dx if dx.get(k) != dy.get(k)}})
    return {"answers": len(old), "different": len(diffs), "examples": diffs[:10]}


def cold_start() -> float:
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, check=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
        runs.append(float(out.stdout.strip()))
    return round(min(runs), 3)


def _write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    return path


def quality(data: Path, tmp: Path) -> dict:
    """The full fast path on the public validation splits, through `triage eval`'s own engine."""
    from onevoice.triage import datasets
    from onevoice.triage.evaluate import eval_file
    from onevoice.triage.triager import FastTriager

    tr = FastTriager()
    splits = datasets.load(data)
    out = {}
    half = splits["sentiment"].eval["tweeteval-val-half"]
    s = eval_file(tr, _write_csv(tmp / "sent.csv", half), "sentiment", "text", "label")
    out["tweeteval sentiment (held-out half of val)"] = s
    seed = splits["intent"].eval["seed"]
    out["seed set held-out (intent)"] = eval_file(tr, _write_csv(tmp / "seed.csv", seed), "intent", "text", "label")
    acts = splits["intent"].eval["tweet-acts"]
    out["tweet-acts held-out (question vs other)"] = eval_file(tr, _write_csv(tmp / "acts.csv", acts), "intent",
                                                                "text", "label")
    bitext = [(t, "complaint" if lab == "complaint" else "no") for t, lab in splits["intent"].eval["bitext"]]
    out["bitext held-out (complaint, binary)"] = eval_file(tr, _write_csv(tmp / "bx.csv", bitext), "complaint",
                                                           "text", "label")
    return {k: {m: v[m] for m in ("n", "accuracy", "macro_f1", "macro_recall")} for k, v in out.items()}


def flags_quality(data: Path) -> dict:
    """Offensive, hate and emotion heads on their TweetEval validation splits (thresholds as shipped)."""
    from onevoice.triage import datasets
    from onevoice.triage.metrics import score
    from onevoice.triage.triager import THRESHOLDS, FastTriager
    from onevoice.triage.types import TriageInput

    tr = FastTriager()
    splits = datasets.load(data)
    out = {}
    for head in ("offensive", "hate"):
        rows = splits[head].eval["tweeteval-val"]
        res = tr.triage_batch([TriageInput(text=t) for t, _ in rows])
        for name, thr in (("shipped threshold", THRESHOLDS[head]), ("0.5", 0.5)):
            pred = ["yes" if r.scores[head] >= thr else "no" for r in res]
            s = score([lab for _, lab in rows], pred)
            out[f"tweeteval {head} val ({name})"] = {m: s[m] for m in ("n", "accuracy", "macro_f1", "macro_recall")}
    rows = splits["emotion"].eval["tweeteval-val"]
    res = tr.triage_batch([TriageInput(text=t) for t, _ in rows])
    s = score([lab for _, lab in rows], [max(r.scores["emotion"], key=r.scores["emotion"].get) for r in res])
    out["tweeteval emotion val"] = {m: s[m] for m in ("n", "accuracy", "macro_f1", "macro_recall")}
    crisis = splits["crisis"].eval["crisislex-unseen-events"]
    res = tr.triage_batch([TriageInput(text=t) for t, _ in crisis])
    s = score([lab for _, lab in crisis], ["yes" if r.scores["crisis"] >= 0.5 else "no" for r in res])
    out["crisislex unseen events (crisis, 0.5)"] = {m: s[m] for m in ("n", "accuracy", "macro_f1", "macro_recall")}
    return out


def main() -> None:
    import tempfile

    from onevoice.triage.datasets import DEFAULT_DATA_DIR
    from onevoice.triage.heads import PACKAGED_MODEL_DIR

    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--repeat", type=int, default=1, help="run the timed loops N times, report the best pass too")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    p.add_argument("--answers", type=Path, help="write every TriageResult of a fixed corpus to this file")
    p.add_argument("--compare", type=Path, nargs=2, metavar=("OLD", "NEW"), help="compare two --answers files")
    args = p.parse_args()
    if args.compare:
        print(json.dumps(compare_answers(*args.compare), indent=2, ensure_ascii=False))
        return
    if args.answers:
        write_answers(args.data, args.answers)
        return
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {0})  # one core, as the targets are stated
    result = {"throughput": throughput(texts_for(args.data, args.n), args.repeat),
              "throughput_brand_mix": throughput(brand_mix(args.data, args.n), args.repeat),
              "cold_start_s": cold_start(),
              "artifact_mb": round(sum(f.stat().st_size for f in PACKAGED_MODEL_DIR.iterdir()) / 1e6, 2)}
    with tempfile.TemporaryDirectory() as tmp:
        result["quality"] = quality(args.data, Path(tmp))
    result["quality"].update(flags_quality(args.data))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
