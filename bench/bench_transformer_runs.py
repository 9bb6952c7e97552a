"""The sentiment transformer's run (triage/transformer.py) on its own: what one run costs by length, which
onnxruntime session options change that cost or its answers, and what batching would buy and change.

    .venv/bin/python -m bench.bench_transformer_runs TEXTS_FILE [--n 600] [--batch-n 1200]

Every figure is CPU time of this process, one thread, the packaged model. "identical" means every logit of
every text equal to the shipped session's, bit for bit. Batches are padded to their longest text with the
attention mask set; the model's int8 dynamic quantization scales each run's activations by the whole batch,
so a batched text's answer depends on its neighbours (transformer.py), which this measures.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _session(path, **options):
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads, o.inter_op_num_threads, o.log_severity_level = 1, 1, 3
    for key, value in options.items():
        if key.startswith("config:"):
            o.add_session_config_entry(key.removeprefix("config:"), value)
        else:
            setattr(o, key, value)
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def _alone(session, keys) -> tuple[float, np.ndarray]:
    """Microseconds of CPU a run, and the logits, each text run alone as the triager runs it."""
    out = []
    started = time.process_time()
    for key in keys:
        ids = np.asarray([key], dtype=np.int64)
        out.append(session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0])
    return (time.process_time() - started) / len(keys) * 1e6, np.array(out)


def _batched(session, keys, size: int, by_length: bool, pad: int, classes: int) -> tuple[float, np.ndarray]:
    order = sorted(range(len(keys)), key=lambda i: len(keys[i])) if by_length else list(range(len(keys)))
    out = np.zeros((len(keys), classes), dtype=np.float32)
    started = time.process_time()
    for s in range(0, len(order), size):
        group = order[s:s + size]
        ids = np.full((len(group), max(len(keys[i]) for i in group)), pad, dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, i in enumerate(group):
            ids[row, :len(keys[i])] = keys[i]
            mask[row, :len(keys[i])] = 1
        out[group] = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    return (time.process_time() - started) / len(keys) * 1e6, out


def _probabilities(logits: np.ndarray, bias: np.ndarray) -> np.ndarray:
    z = logits + bias
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main() -> None:
    import onnxruntime as ort

    from onevoice.triage.transformer import MODEL_FILE, PACKAGED_SENTIMENT_DIR, SentimentTransformer

    parser = argparse.ArgumentParser()
    parser.add_argument("texts", help="one text a line")
    parser.add_argument("--n", type=int, default=600, help="texts for the session options")
    parser.add_argument("--batch-n", type=int, default=1200, help="texts (drawn at random, seed 1) for batching")
    args = parser.parse_args()
    with open(args.texts, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    model = SentimentTransformer(cache_size=0)
    path = PACKAGED_SENTIMENT_DIR / MODEL_FILE
    out: dict = {"onnxruntime": ort.__version__}
    base = _session(path)
    out["us_by_tokens"] = {n: round(_alone(base, [tuple([model.cls] + [2000] * (n - 2) + [model.sep])] * 200)[0])
                           for n in (3, 10, 33, 64)}
    keys = [tuple(model.ids(t)) for t in texts[: args.n]]
    out["tokens_mean"] = round(float(np.mean([len(k) for k in keys])), 1)
    shipped_us, shipped = _alone(base, keys)
    options = {"shipped (ORT_ENABLE_ALL, prepacking, arena)": {},
               "no memory arena": {"enable_cpu_mem_arena": False},
               "no memory pattern": {"enable_mem_pattern": False},
               "ORT_ENABLE_EXTENDED": {"graph_optimization_level": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED},
               "ORT_ENABLE_BASIC": {"graph_optimization_level": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC},
               "no prepacking": {"config:session.disable_prepacking": "1"},
               "2 intra-op threads": {"intra_op_num_threads": 2}}
    rows = {"shipped, first": {"us_per_run": round(shipped_us), "identical": True}}
    for name, opts in options.items():
        us, logits = _alone(_session(path, **opts), keys)
        rows[name] = {"us_per_run": round(us), "identical": bool(np.array_equal(logits, shipped)),
                      "max_abs_logit_difference": float(np.abs(logits - shipped).max())}
    out["session_options"] = rows
    rng = np.random.default_rng(1)
    picked = [tuple(model.ids(texts[i])) for i in rng.choice(len(texts), min(args.batch_n, len(texts)), replace=False)]
    alone_us, alone = _alone(base, picked)
    p_alone = _probabilities(alone, model.bias)
    batching = {"alone": {"us_per_text": round(alone_us)}}
    for size, by_length in ((8, True), (32, True), (32, False)):
        us, logits = _batched(base, picked, size, by_length, model.pad, len(model.classes))
        p = _probabilities(logits, model.bias)
        d = np.abs(p - p_alone)
        batching[f"{size} a batch{', by length' if by_length else ''}"] = {
            "us_per_text": round(us), "cpu_change": f"{us / alone_us - 1:+.1%}",
            "max_abs_probability_difference": round(float(d.max()), 4),
            "mean_abs_probability_difference": round(float(d.mean()), 5),
            "arg_max_changed": int((p.argmax(axis=1) != p_alone.argmax(axis=1)).sum()),
            "equal_to_3_decimals": int((np.round(p, 3) == np.round(p_alone, 3)).all(axis=1).sum()),
            "texts": len(picked)}
    out["batching"] = batching
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
