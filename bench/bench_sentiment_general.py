"""How far the sentiment head's design reaches on general tweets: TweetEval sentiment, held-out half of validation.

    .venv/bin/python bench/bench_sentiment_general.py [--data ../shared/data]

Retrains only the sentiment head (hashed words + dense signals, as shipped) from the same rows as
scripts/train_triage.py, in a few variants, and scores each on the held-out half of TweetEval sentiment
validation (the only TweetEval sentiment split in the shared data; its other half is trained on) and on the
brand-directed dev sets. The last line is a ceiling, not a model: the shipped heads with per-class offsets
chosen *on the held-out half itself* (an oracle; what no honest threshold tuning can beat). See
docs/triage.md "Sentiment on general tweets". Takes a few minutes (the encoder variant embeds every row).
"""

from __future__ import annotations

import argparse
import csv
import itertools
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEVSETS = ROOT / "tests" / "triage" / "devsets"


def main() -> None:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    from onevoice.triage import datasets, train
    from onevoice.triage.datasets import DEFAULT_DATA_DIR, _tweeteval
    from onevoice.triage.encoder import StaticEncoder
    from onevoice.triage.features import tokenize
    from onevoice.triage.heads import Heads
    from onevoice.triage.metrics import score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    split = datasets.load(args.data)["sentiment"]
    enc, static = train._Encoder(), StaticEncoder()
    tweets = set(_tweeteval(args.data, "sentiment", "val"))
    in_domain = [r for r in split.train if r in tweets]
    rest = [r for r in split.train if r not in tweets]

    def dev(name):
        with (DEVSETS / name).open(encoding="utf-8", newline="") as f:
            return [(r["text"], r["sentiment"]) for r in csv.DictReader(f)]

    evals = {"tweeteval held-out": split.eval["tweeteval-val-half"], "people_frozen": dev("people_frozen.csv"),
             "people_dev": dev("people_dev.csv")}

    def matrix(texts, embed):
        x = enc.matrix(texts)
        return hstack([x, csr_matrix(static.encode(texts))], format="csr") if embed else x

    def line(name, predict):
        cells = []
        for set_name, rows in evals.items():
            s = score([lab for _, lab in rows], predict([t for t, _ in rows]))
            per = " / ".join(f"{s['per_class'][c]['f1']:.3f}" for c in ("negative", "neutral", "positive"))
            cells.append(f"{set_name} {s['macro_f1']:.3f} ({per})")
        print(f"{name:34} " + " | ".join(cells), flush=True)

    def variant(name, parts, embed=False, c=train.C["sentiment"]):
        rows = [r for p, _ in parts for r in p]
        weight = np.array([w for p, w in parts for _ in p])
        x = matrix([t for t, _ in rows], embed)
        used = np.unique(x.indices)
        clf = LogisticRegression(C=c, max_iter=train.MAX_ITER, tol=1e-3)
        clf.fit(x[:, used], [lab for _, lab in rows], sample_weight=weight)
        line(name, lambda texts: list(clf.predict(matrix(texts, embed)[:, used])))

    seed = (split.seed, train.SEED_WEIGHT)
    variant("as shipped (hashed + dense)", [(split.train, 1.0), seed])
    variant("+ MiniLM static embedding", [(split.train, 1.0), seed], embed=True)
    variant("TweetEval rows x3", [(in_domain, 3.0), (rest, 1.0), seed])
    variant("C 1", [(split.train, 1.0), seed], c=1.0)
    variant("C 4", [(split.train, 1.0), seed], c=4.0)

    heads = Heads.load()
    classes = heads.heads["sentiment"].classes

    def log_probs(texts):
        indptr, cols, vals = enc.featurizer.transform([tokenize(t) for t in texts])
        return np.log(heads.probabilities(heads.logits(indptr, cols, vals, enc.dense.matrix(texts)), "sentiment"))

    held = evals["tweeteval held-out"]
    lp, gold = log_probs([t for t, _ in held]), [lab for _, lab in held]
    best = max(((score(gold, [classes[i] for i in (lp + [a, b, 0]).argmax(1)])["macro_f1"], (a, b))
                for a, b in itertools.product(np.arange(-1, 1.01, 0.1), repeat=2)), key=lambda x: x[0])
    off = np.array([*best[1], 0.0])
    line(f"oracle offsets {np.round(off, 1).tolist()}", lambda texts: [classes[i] for i in (log_probs(texts) + off)
                                                                     .argmax(1)])


if __name__ == "__main__":
    main()
