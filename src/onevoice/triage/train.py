"""Build-time training of the heads with scikit-learn (the `train` extra); run time needs only numpy.

Every head is a logistic regression over the same hashed features plus the dense signals, so the
trained coefficients stack into one matrix that `Heads` applies with a single sparse product.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import numpy as np

from onevoice.triage.complaint import FEATURES
from onevoice.triage.datasets import Split
from onevoice.triage.dense import DenseSignals
from onevoice.triage.encoder import StaticEncoder
from onevoice.triage.escalation import EscalationHeads, features
from onevoice.triage.features import N_BITS, N_FEATURES, Featurizer, tokenize
from onevoice.triage.heads import DENSE_FEATURES, Heads
from onevoice.triage.metrics import score
from onevoice.triage.triager import FastTriager
from onevoice.triage.types import TriageInput

# Regularisation per head, picked on the held-out sets (smaller C = smoother, generalizes further).
C = {"sentiment": 2.0, "intent": 4.0, "offensive": 1.0, "hate": 0.5, "crisis": 1.0, "emotion": 2.0, "complaint": 2.0}
# Heads whose classes are unbalanced in the data but should not be in the answer.
BALANCED = {"crisis", "hate", "emotion", "complaint"}
# Intent is balanced only halfway (weight (n / (k * n_class)) ** 0.5): fully balanced, the few dozen
# brand-directed job inquiries each weighed ~50 public questions, so any word they happened to share
# ("work", "find") became a job signal and "Does the router work with Apple Home?" went to HR.
SOFT_BALANCED = {"intent"}

MAX_ITER = 500
HEAD_ORDER = ("sentiment", "intent", "offensive", "hate", "crisis", "emotion", "complaint")
# A correction is the organization telling us the answer: worth more than one public tweet.
EXTRA_WEIGHT = 5.0
SEED_WEIGHT = 3.0


def class_weight(name: str, labels: list[str]):
    """What LogisticRegression's class_weight should be for this head's labels."""
    if name in BALANCED:
        return "balanced"
    if name not in SOFT_BALANCED:
        return None
    counts = Counter(labels)
    return {c: (len(labels) / (len(counts) * n)) ** 0.5 for c, n in counts.items()}


class _Encoder:
    """Features for training texts, computed once per distinct text and shared by every head."""

    def __init__(self) -> None:
        self.featurizer = Featurizer(cache_size=2_000_000)
        self.dense = DenseSignals()

    def matrix(self, texts: list[str]):
        from scipy.sparse import csr_matrix, hstack  # optional: the `train` extra

        indptr, cols, vals = self.featurizer.transform([tokenize(t) for t in texts])
        sparse = csr_matrix((vals, cols, indptr), shape=(len(texts), N_FEATURES))
        sparse.sum_duplicates()
        return hstack([sparse, csr_matrix(self.dense.matrix(texts))], format="csr")


def _carried(base: Heads | None, name: str):
    if base is None or name not in base.heads:
        raise ValueError(f"no training data for the {name} head and no base model that has it")
    h = base.heads[name]
    return (base.weights[:, h.start:h.end], base.dense[:, h.start:h.end], base.bias[h.start:h.end],
            list(h.classes))


def fit(splits: dict[str, Split], version: str | None = None, log=print, base: Heads | None = None,
        only: tuple[str, ...] | None = None) -> Heads:
    """Every head (or those in `only`) from its rows; the others, and a head without rows, keep `base`'s
    weights. Calibrates the complaint signal."""
    from sklearn.linear_model import LogisticRegression  # optional: the `train` extra

    encoder = _Encoder()
    weights, dense, bias, heads_meta, counts = [], [], [], [], {}
    start = 0
    for name in HEAD_ORDER:
        split = splits[name]
        rows = split.train + split.seed + split.extra
        if not rows or (only is not None and name not in only and base is not None and name in base.heads):
            # Nothing to learn from here (TweetEval is not packaged), or nothing new to learn (the organization's
            # labels teach intent, sentiment and complaint only): keep the weights the base model has.
            w, d, b, classes = _carried(base, name)
            weights.append(w)
            dense.append(d)
            bias.append(b)
            heads_meta.append({"name": name, "classes": classes, "start": start, "end": start + w.shape[1],
                               "carried_from": base.version})
            start += w.shape[1]
            counts[name] = {"carried_from": base.version}
            log(f"  {name}: weights kept from {base.version}")
            continue
        texts = [t for t, _ in rows]
        labels = [lab for _, lab in rows]
        sample_weight = np.array([1.0] * len(split.train) + [SEED_WEIGHT] * len(split.seed)
                                 + [EXTRA_WEIGHT] * len(split.extra))
        t0 = time.perf_counter()
        clf = LogisticRegression(C=C[name], max_iter=MAX_ITER, tol=1e-3, class_weight=class_weight(name, labels))
        # Fit on the columns that occur at all (a few percent of the hashed space): same optimum, since an
        # unused column's weight stays 0 under L2, but each solver step is far cheaper.
        X = encoder.matrix(texts)
        used = np.unique(X.indices)
        clf.fit(X[:, used], labels, sample_weight=sample_weight)
        classes = [str(c) for c in clf.classes_]
        coef = np.zeros((clf.coef_.shape[0], X.shape[1]), dtype=np.float64)
        coef[:, used] = clf.coef_
        intercept = clf.intercept_
        # Binary heads keep one column: the log-odds of the positive class, which must be "yes".
        if len(classes) == 2 and classes != ["no", "yes"]:
            raise ValueError(f"binary head {name} must have labels no/yes, got {classes}")
        width = coef.shape[0]
        weights.append(coef[:, :N_FEATURES].T)
        dense.append(coef[:, N_FEATURES:].T)
        bias.append(intercept)
        heads_meta.append({"name": name, "classes": classes, "start": start, "end": start + width})
        start += width
        counts[name] = {"public": len(split.train), "seed": len(split.seed), "extra": len(split.extra)}
        log(f"  {name}: {len(rows)} examples, {len(classes)} classes, {time.perf_counter() - t0:.1f}s")
    meta = {
        # Time-ordered and unique even for two runs in the same second.
        "version": version or datetime.now(UTC).strftime("hv-%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4],
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "features": {"kind": "hashed word 1-2 grams + char 3-4 grams", "n_bits": N_BITS,
                     "dense": list(DENSE_FEATURES)},
        "heads": heads_meta,
        "training_counts": counts,
    }
    # Rounded to float16 here, as on disk, so the metrics describe the weights that will be shipped.
    heads = Heads(np.hstack(weights).astype(np.float16).astype(np.float32), np.hstack(dense).astype(np.float32),
                  np.concatenate(bias).astype(np.float32), meta)
    heads.meta["complaint_calibration"] = calibrate_complaint(heads, splits["complaint"].eval.get("seed", []))
    heads.meta["metrics"] = evaluate(heads, splits)
    return heads


def calibrate_complaint(heads: Heads, rows: list[tuple[str, str]]) -> dict:
    """Platt-style: a logistic regression from the complaint signals to the held-out brand posts' labels.

    The held-out rows never trained the head, so its logits there look like they will on new messages.
    """
    from sklearn.linear_model import LogisticRegression  # optional: the `train` extra

    if len({lab for _, lab in rows}) < 2:
        return {}
    triager = FastTriager(heads=heads)
    signals = triager.complaint_signals([TriageInput(text=t) for t, _ in rows])
    clf = LogisticRegression(C=10.0, max_iter=1000)
    clf.fit(signals, [lab == "yes" for _, lab in rows])
    return {"features": list(FEATURES), "coef": [round(float(c), 5) for c in clf.coef_[0]],
            "intercept": round(float(clf.intercept_[0]), 5), "n": len(rows)}


def predict_head(heads: Heads, name: str, texts: list[str], encoder: _Encoder | None = None) -> list[str]:
    """The head's own answer (no rules), through exactly the arithmetic used at run time."""
    enc = encoder or _Encoder()
    indptr, cols, vals = enc.featurizer.transform([tokenize(t) for t in texts])
    logits = heads.logits(indptr, cols, vals, enc.dense.matrix(texts))
    head = heads.heads[name]
    probs = heads.probabilities(logits, name)
    if head.binary:
        return ["yes" if p >= 0.5 else "no" for p in probs]
    return [head.classes[i] for i in probs.argmax(axis=1)]


def evaluate(heads: Heads, splits: dict[str, Split]) -> dict:
    """Per head and held-out set: accuracy, macro-F1, macro-recall, per-class F1 (no confusion: meta stays small)."""
    encoder = _Encoder()
    out: dict[str, dict] = {}
    for name, split in splits.items():
        for set_name, rows in split.eval.items():
            if not rows:
                continue
            pred = predict_head(heads, name, [t for t, _ in rows], encoder)
            s = score([lab for _, lab in rows], pred)
            out.setdefault(name, {})[set_name] = {
                **{k: s[k] for k in ("n", "accuracy", "macro_f1", "macro_recall")},
                "per_class": {lab: c["f1"] for lab, c in s["per_class"].items() if c["support"]}}
    return out


def quality(metrics: dict) -> float:
    """One number to compare two versions on the same held-out sets: the mean macro-F1."""
    values = [m["macro_f1"] for sets in metrics.values() for m in sets.values()]
    return round(sum(values) / len(values), 4) if values else 0.0


# The escalation heads read the encoder's embedding; C picked on the held-out sets like the fast heads'.
ESCALATION_C = {"intent": 16.0, "sentiment": 1.0}


def fit_escalation(splits: dict[str, Split], encoder=None, log=print):
    """Logistic regressions on the static sentence embedding, from the same rows as the fast heads."""
    from sklearn.linear_model import LogisticRegression  # optional: the `train` extra

    encoder = encoder or StaticEncoder()
    dense = DenseSignals()
    weights, bias, heads_meta, counts, start = [], [], [], {}, 0
    for name, c in ESCALATION_C.items():
        split = splits[name]
        rows = split.train + split.seed + split.extra
        sample_weight = np.array([1.0] * len(split.train) + [SEED_WEIGHT] * len(split.seed)
                                 + [EXTRA_WEIGHT] * len(split.extra))
        t0 = time.perf_counter()
        labels = [lab for _, lab in rows]
        clf = LogisticRegression(C=c, max_iter=MAX_ITER, class_weight=class_weight(name, labels))
        clf.fit(features(encoder, dense, [t for t, _ in rows]), labels, sample_weight=sample_weight)
        classes = [str(x) for x in clf.classes_]
        weights.append(clf.coef_.T)
        bias.append(clf.intercept_)
        heads_meta.append({"name": name, "classes": classes, "start": start, "end": start + len(classes)})
        start += len(classes)
        counts[name] = {"public": len(split.train), "seed": len(split.seed), "extra": len(split.extra)}
        log(f"  escalation {name}: {len(rows)} examples, {time.perf_counter() - t0:.1f}s")
    heads = EscalationHeads(np.hstack(weights), np.concatenate(bias), {
        "encoder": encoder.id, "features": f"embedding ({encoder.dims}) + dense {list(DENSE_FEATURES)}",
        "heads": heads_meta, "training_counts": counts})
    heads.meta["metrics"] = evaluate_escalation(heads, splits, encoder)
    return heads


def evaluate_escalation(heads, splits: dict[str, Split], encoder) -> dict:
    """The escalation heads alone on the same held-out sets as the fast heads."""
    dense = DenseSignals()
    out: dict[str, dict] = {}
    for name in heads.heads:
        for set_name, rows in splits[name].eval.items():
            if rows:
                pred = heads.predict(features(encoder, dense, [t for t, _ in rows]), name)
                s = score([lab for _, lab in rows], pred)
                out.setdefault(name, {})[set_name] = {k: s[k] for k in ("n", "accuracy", "macro_f1", "macro_recall")}
    return out


def combined_quality(fast_triager, escalating, splits: dict[str, Split]) -> dict:
    """Intent and sentiment of the full triage, fast path alone vs with escalation, on the held-out sets."""
    out: dict[str, dict] = {"fast": {}, "escalated": {}, "share_escalated": {}}
    for name in ("intent", "sentiment"):
        for set_name, rows in splits[name].eval.items():
            if not rows:
                continue
            items = [TriageInput(text=t) for t, _ in rows]
            gold = [lab for _, lab in rows]
            fast = fast_triager.triage_batch(items)
            esc = escalating.triage_batch(items)
            key = f"{name}/{set_name}"
            for label, results in (("fast", fast), ("escalated", esc)):
                s = score(gold, [getattr(r, name) for r in results])
                out[label][key] = {k: s[k] for k in ("n", "accuracy", "macro_f1", "macro_recall")}
            out["share_escalated"][key] = round(sum("escalation" in r.scores for r in esc) / len(esc), 3)
    for label in ("fast", "escalated"):
        values = [m["macro_f1"] for m in out[label].values()]
        out[f"{label}_quality"] = round(sum(values) / len(values), 4) if values else 0.0
    return out
