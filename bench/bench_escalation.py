"""Escalation benchmarks: share escalated, rates with escalation on, cold start, sizes, and quality with vs
without escalation on the held-out sets of the Triage quality table (same splits).

    .venv/bin/python bench/bench_escalation.py [--n 6000] [--data ../shared/data] [--tune]

--tune prints the held-out quality and share escalated over a grid of policies (how escalation.Policy's
defaults were picked). Everything runs on one core (sched_setaffinity), rates in wall clock and CPU time.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_triage import COLD as FAST_COLD  # noqa: E402 - the same text sets and cold start as the fast-path bench
from bench_triage import _write_csv, brand_mix  # noqa: E402

COLD = ("import time; t=time.perf_counter(); from onevoice.triage.triager import FastTriager; "
        "from onevoice.triage.escalation import EscalatingTriager; from onevoice.triage.types import TriageInput; "
        "tr=EscalatingTriager(FastTriager()); tr.triage(TriageInput(text='hi there, thanks'));"
        " a=time.perf_counter()-t; tr.triage(TriageInput(text='@acme I waited two weeks for this'));"
        " print(a, time.perf_counter()-t, 'escalation' in tr.triage(TriageInput(text='@acme I waited two weeks"
        " for this')).scores)")


def rates(triager, texts: list[str]) -> dict:
    from onevoice.triage.types import TriageInput

    items = [TriageInput(text=t) for t in texts]
    triager.triage_batch(items[:500])  # warm caches the way a running worker has them
    t0, c0 = time.perf_counter(), time.process_time()
    escalated = 0
    for i in range(0, len(items), 500):
        escalated += sum("escalation" in r.scores for r in triager.triage_batch(items[i:i + 500]))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    single = items[:2000]
    t1, c1 = time.perf_counter(), time.process_time()
    for it in single:
        triager.triage_batch([it])
    return {"batch_per_s": round(len(items) / wall), "batch_per_cpu_s": round(len(items) / cpu),
            "single_per_s": round(len(single) / (time.perf_counter() - t1)),
            "single_per_cpu_s": round(len(single) / (time.process_time() - c1)),
            "share_escalated": round(escalated / len(items), 3), "n": len(items)}


def cold_start() -> dict:
    """Escalation on vs the fast path alone, interleaved so both see the same load."""
    runs, fast = [], []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, check=True, env=env)
        first, escalated, did = out.stdout.split()
        assert did == "True", "the cold-start message was not escalated"
        runs.append((float(first), float(escalated)))
        out = subprocess.run([sys.executable, "-c", FAST_COLD], capture_output=True, text=True, check=True, env=env)
        fast.append(float(out.stdout.strip()))
    return {"first_message_s": round(min(r[0] for r in runs), 3),
            "first_escalated_message_s": round(min(r[1] for r in runs), 3),
            "fast_path_alone_first_message_s": round(min(fast), 3)}


def sizes() -> dict:
    from importlib.metadata import distribution

    from onevoice.triage.encoder import PACKAGED_ENCODER_DIR
    from onevoice.triage.escalation import HEADS_FILE
    from onevoice.triage.heads import PACKAGED_MODEL_DIR
    from onevoice.triage.transformer import PACKAGED_SENTIMENT_DIR

    def installed(name: str) -> float:
        dist = distribution(name)
        return sum((Path(dist.locate_file(f)).stat().st_size for f in dist.files or ()
                    if Path(dist.locate_file(f)).is_file()), 0) / 1e6

    return {"encoder_mb": round(sum(p.stat().st_size for p in PACKAGED_ENCODER_DIR.iterdir()) / 1e6, 2),
            "sentiment_transformer_mb": round(sum(p.stat().st_size for p in PACKAGED_SENTIMENT_DIR.iterdir()) / 1e6, 2),
            "onnxruntime_installed_mb": round(installed("onnxruntime"), 1),
            "escalation_heads_kb": round((PACKAGED_MODEL_DIR / HEADS_FILE).stat().st_size / 1e3, 1),
            # The static encoder needs nothing beyond numpy; the sentiment transformer needs onnxruntime.
            "numpy_installed_mb": round(installed("numpy"), 1)}


def quality(data: Path, policy=None) -> dict:
    """Fast path vs fast path + escalation, through `triage eval`'s own engine, on the bench's sets."""
    from onevoice.triage import datasets
    from onevoice.triage.escalation import DEFAULT_POLICY, EscalatingTriager
    from onevoice.triage.evaluate import eval_file
    from onevoice.triage.triager import FastTriager

    splits = datasets.load(data)
    fast = FastTriager()
    esc = EscalatingTriager(fast, policy=policy or DEFAULT_POLICY)
    static = EscalatingTriager(fast, policy=policy or DEFAULT_POLICY, sentiment_model=False)
    sets = {
        "tweeteval sentiment (held-out half of val)": ("sentiment", splits["sentiment"].eval["tweeteval-val-half"]),
        "seed set held-out (intent)": ("intent", splits["intent"].eval["seed"]),
        "seed set held-out (sentiment)": ("sentiment", splits["sentiment"].eval["seed"]),
        "tweet-acts held-out (question vs other)": ("intent", splits["intent"].eval["tweet-acts"]),
        "bitext held-out (complaint, binary)": ("complaint", [(t, "complaint" if lab == "complaint" else "no")
                                                              for t, lab in splits["intent"].eval["bitext"]]),
    }
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (task, rows) in sets.items():
            path = _write_csv(Path(tmp) / "set.csv", rows)
            row = {}
            for label, tr in (("fast", fast), ("escalated", esc), ("escalated_without_transformer", static)):
                s = eval_file(tr, path, task, "text", "label")
                row[label] = {m: s[m] for m in ("n", "accuracy", "macro_f1", "macro_recall")}
            row["fast"].pop("n")
            out[name] = row
    for label in ("fast", "escalated", "escalated_without_transformer"):
        out[f"mean macro-F1 ({label})"] = round(sum(v[label]["macro_f1"] for v in out.values()
                                                    if isinstance(v, dict) and label in v) / len(sets), 4)
    return out


def tune(data: Path, texts: list[str]) -> None:
    from onevoice.triage.escalation import EscalatingTriager, Policy
    from onevoice.triage.triager import FastTriager
    from onevoice.triage.types import TriageInput

    fast = FastTriager()
    items = [TriageInput(text=t) for t in texts[:3000]]
    for grid in itertools.product([0.4, 0.5, 0.6], [0.2, 0.35], [0.3, 0.5], [0.3, 0.5, 0.7]):
        policy = Policy(*grid)
        q = quality(data, policy)
        share = sum("escalation" in r.scores for r in EscalatingTriager(fast, policy=policy).triage_batch(items))
        print(json.dumps({"policy": grid, "mean_f1": q["mean macro-F1 (escalated)"],
                          "share_brand_mix": round(share / len(items), 3),
                          **{k: v["escalated"]["macro_f1"] for k, v in q.items() if isinstance(v, dict)}}))


def main() -> None:
    from onevoice.triage.datasets import DEFAULT_DATA_DIR
    from onevoice.triage.escalation import EscalatingTriager
    from onevoice.triage.triager import FastTriager

    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=6000)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    p.add_argument("--tune", action="store_true")
    args = p.parse_args()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {0})  # one core, as the targets are stated
    texts = brand_mix(args.data, args.n)
    if args.tune:
        tune(args.data, texts)
        return
    catalog = [{"key": "voltix-v3", "name": "Voltix V3"}, {"key": "nimbus", "name": "Nimbus Docs"}]
    fast = FastTriager(catalog=catalog)
    result = {"brand_mix_fast": rates(fast, texts), "brand_mix_escalation_on": rates(EscalatingTriager(fast), texts),
              "brand_mix_escalation_without_transformer": rates(EscalatingTriager(fast, sentiment_model=False), texts),
              "cold_start": cold_start(), "sizes": sizes(), "quality": quality(args.data)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
