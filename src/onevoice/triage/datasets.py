"""Where each head's labelled examples come from, and how each source's labels map to ours.

Public data is read from the shared data folder (never copied into the repository); the seed set shipped
in the package covers the brand-directed intents no public set has. Every source keeps a held-out part
so the reported quality is measured on text the heads never saw.
"""

from __future__ import annotations

import csv
import random
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

SEED_CSV = Path(__file__).parent / "seed" / "seed_examples.csv"
# In a checkout: <repo>/src/onevoice/triage/ -> <repo>/../shared/data
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[4] / "shared" / "data"

BITEXT_LEAD = {"complaint": "complaint"}  # every other Bitext intent is a customer asking for something
ACTS = {"QUE": "question", "STM": "other", "OTH": "other", "EXP": "other"}
CRISIS_POSITIVE = {"Related and informative", "Related - but not informative"}
EMOTION_SENTIMENT = {"anger": "negative", "sadness": "negative", "joy": "positive", "optimism": "positive"}


def held_out(text: str, share: float = 0.2) -> bool:
    """A stable split: the same text is always on the same side, across runs and machines."""
    return (zlib.crc32(text.strip().lower().encode()) % 1000) < share * 1000


@dataclass
class Split:
    train: list[tuple[str, str]] = field(default_factory=list)
    # The organization's own labels (corrections, --examples): trained on with a higher weight.
    extra: list[tuple[str, str]] = field(default_factory=list)
    # Brand-directed seed examples: outnumbered by public tweets, but closest to what we will see.
    seed: list[tuple[str, str]] = field(default_factory=list)
    eval: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _tweeteval(data: Path, task: str, part: str) -> list[tuple[str, str]]:
    base = data / "tweeteval" / task
    names = dict(line.split("\t") for line in _lines(base / "mapping.txt"))
    texts, labels = _lines(base / f"{part}_text.txt"), _lines(base / f"{part}_labels.txt")
    return [(t.strip(), names[lab.strip()]) for t, lab in zip(texts, labels, strict=True)]


def read_seed(path: Path = SEED_CSV) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _crisislex(data: Path) -> list[tuple[str, str, str]]:
    rows = []
    for path in sorted((data / "crisislex-t26").glob("*.csv")):
        with path.open(encoding="utf-8", errors="replace", newline="") as f:
            for r in csv.DictReader(f, skipinitialspace=True):
                label = "yes" if r["Informativeness"].strip() in CRISIS_POSITIVE else "no"
                rows.append((path.stem, r["Tweet Text"], label))
    return rows


def load(data_dir: Path | None = None, extra: list[tuple[str, str, str]] = (), limit: int | None = None,
         rng_seed: int = 13) -> dict[str, Split]:
    """Per head, (text, label) pairs to train on and named held-out sets to evaluate on.

    extra: (text, head, label) from corrections and an organization's own history; always trained on.
    limit: cap each public source (for fast tests); the seed set and extra are never capped.
    """
    data = Path(data_dir) if data_dir else DEFAULT_DATA_DIR
    rng = random.Random(rng_seed)
    heads = {name: Split() for name in ("sentiment", "intent", "offensive", "hate", "crisis", "emotion")}

    def cap(rows: list) -> list:
        rows = list(rows)
        rng.shuffle(rows)
        return rows[:limit] if limit else rows

    for r in read_seed():
        side = "seed" if held_out(r["text"]) else None
        for head, label in (("intent", r["intent"]), ("sentiment", r["sentiment"])):
            (heads[head].eval[side].append if side else heads[head].seed.append)((r["text"], label))
        if r["intent"] != "safety_risk" and not side:
            heads["crisis"].train.append((r["text"], "no"))

    if not data.is_dir():
        # Without the public sets the offensive, hate, crisis and emotion heads have nothing to learn from.
        raise FileNotFoundError(f"the public training data is not at {data}: put the shared data set there or "
                                "set ONEVOICE_TRAINING_DATA_DIR")
    _public(data, heads, cap)
    for text, head, label in extra:
        heads[head].extra.append((text, label))
    return heads


def _yes_no(task: str, label: str) -> str:
    """Binary heads answer yes/no, so every binary head reads the same way."""
    return {"offensive": "yes", "not-offensive": "no", "hate": "yes", "not-hate": "no"}.get(label, label)


def _public(data: Path, heads: dict[str, Split], cap) -> None:
    for task in ("offensive", "hate", "emotion"):
        heads[task].train += [(t, _yes_no(task, lab)) for t, lab in cap(_tweeteval(data, task, "train"))]
        heads[task].eval["tweeteval-val"] = [(t, _yes_no(task, lab)) for t, lab in _tweeteval(data, task, "val")]
    # Only the validation split of TweetEval sentiment is public here: train on one half, report the other.
    for text, label in cap(_tweeteval(data, "sentiment", "val")):
        (heads["sentiment"].eval["tweeteval-val-half"].append if held_out(text, 0.5)
         else heads["sentiment"].train.append)((text, label))
    heads["sentiment"].train += [(t, EMOTION_SENTIMENT[lab]) for t, lab in cap(_tweeteval(data, "emotion", "train"))]

    with (data / "bitext-customer-support" / "Bitext_Sample_Customer_Support_Training_Dataset.csv").open(
            encoding="utf-8", newline="") as f:
        bitext = [(r["instruction"], BITEXT_LEAD.get(r["intent"], "question")) for r in csv.DictReader(f)]
    # Bitext is synthetic and templated: a sample is enough, more would drown the brand-directed seed set.
    bitext = cap(bitext)[:1500]
    for text, label in bitext:
        (heads["intent"].eval["bitext"].append if held_out(text) else heads["intent"].train.append)((text, label))
        heads["sentiment"].train.append((text, "negative" if label == "complaint" else "neutral"))
        heads["crisis"].train.append((text, "no"))

    with (data / "tweet-acts" / "TWEET_DATA.csv").open(encoding="utf-8", newline="") as f:
        acts = [(row[0], ACTS[row[-1]]) for row in csv.reader(f) if len(row) >= 2 and row[-1] in ACTS]
    by_label = defaultdict(list)
    for text, label in cap(acts):
        by_label[label].append((text, label))
    for text, label in by_label["question"] + by_label["other"][:900]:
        (heads["intent"].eval["tweet-acts"].append if held_out(text) else heads["intent"].train.append)(
            (text, label))

    # Crisis: hold out whole events, so the score says how the head does on a disaster it never saw.
    held_events = {"2013_Boston_bombings-tweets_labeled", "2013_Alberta_floods-tweets_labeled"}
    for event, text, label in cap(_crisislex(data)):
        (heads["crisis"].eval["crisislex-unseen-events"].append if event in held_events
         else heads["crisis"].train.append)((text, label))
