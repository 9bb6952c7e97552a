"""Where each head's labelled examples come from, and how each source's labels map to ours.

Public data is read from the shared data folder in a checkout. After `pip install`, where that folder is
not beside the code, the redistributable part of it ships in the package (`public_data/`, packed by
scripts/pack_public_data.py, see its NOTICE.md): tweet acts, CrisisLex and Bitext, but no TweetEval text.
Then the heads that only TweetEval teaches (offensive, hate, emotion) keep the weights they have, and
sentiment learns the active model's answers on the packaged tweets besides every labelled brand post.
The seed sets shipped in the package cover the brand-directed intents no public set has. Every source
keeps a held-out part so the reported quality is measured on text the heads never saw.
"""

from __future__ import annotations

import csv
import io
import lzma
import random
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
SEED_CSV = HERE / "seed" / "seed_examples.csv"
# Brand-directed posts written for this project the way customers post (sarcasm, questions that are
# complaints, faults without an angry word, "work" in every sense, five languages): text,intent,sentiment,complaint.
BRAND_POSTS_CSV = HERE / "seed" / "brand_posts.csv"
PACKAGED_DATA_DIR = HERE / "public_data"
# In a checkout: <repo>/src/onevoice/triage/ -> <repo>/../shared/data
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[4] / "shared" / "data"
BITEXT_FILE = "Bitext_Sample_Customer_Support_Training_Dataset.csv"

BITEXT_LEAD = {"complaint": "complaint"}  # every other Bitext intent is a customer asking for something
# Bitext intents that report something gone wrong (a complaint in our sense) rather than ask for a service.
BITEXT_COMPLAINT = {"complaint", "payment_issue", "registration_problems"}
ACTS = {"QUE": "question", "STM": "other", "OTH": "other", "EXP": "other"}
CRISIS_POSITIVE = {"Related and informative", "Related - but not informative"}
EMOTION_SENTIMENT = {"anger": "negative", "sadness": "negative", "joy": "positive", "optimism": "positive"}
COMPLAINT_INTENTS = {"complaint", "legal_risk", "safety_risk"}
HEADS = ("sentiment", "intent", "offensive", "hate", "crisis", "emotion", "complaint")
# Only TweetEval teaches these; it is not redistributable, so a packaged-data run keeps their weights.
TWEETEVAL_ONLY = ("offensive", "hate", "emotion")
# How many packaged tweets the active model labels for sentiment when TweetEval is not at hand.
TEACHER_SAMPLE = 3000


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
    # Where the public part came from: "shared data at <dir>" or "packaged".
    source: str = ""


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


def read_brand_posts(path: Path = BRAND_POSTS_CSV) -> list[dict]:
    return read_seed(path)


def read_crisislex_csvs(data: Path) -> list[tuple[str, str, str]]:
    """(event, text, yes/no informative) from the shared folder's CrisisLex T26 files."""
    rows = []
    for path in sorted((data / "crisislex-t26").glob("*.csv")):
        with path.open(encoding="utf-8", errors="replace", newline="") as f:
            for r in csv.DictReader(f, skipinitialspace=True):
                label = "yes" if r["Informativeness"].strip() in CRISIS_POSITIVE else "no"
                rows.append((path.stem, r["Tweet Text"], label))
    return rows


def _packed(name: str) -> list[list[str]]:
    """Rows (header dropped) of one xz-compressed CSV in public_data/."""
    text = lzma.decompress((PACKAGED_DATA_DIR / name).read_bytes()).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))[1:]


def packaged_available() -> bool:
    return (PACKAGED_DATA_DIR / "tweet_acts.csv.xz").is_file()


def _acts(data: Path | None) -> list[tuple[str, str]]:
    if data is None:
        return [(t, ACTS[a]) for t, a in _packed("tweet_acts.csv.xz")]
    with (data / "tweet-acts" / "TWEET_DATA.csv").open(encoding="utf-8", newline="") as f:
        return [(row[0], ACTS[row[-1]]) for row in csv.reader(f) if len(row) >= 2 and row[-1] in ACTS]


def _crisis(data: Path | None) -> list[tuple[str, str, str]]:
    if data is None:
        return [(e, t, lab) for e, t, lab in _packed("crisislex_t26.csv.xz")]
    return read_crisislex_csvs(data)


def _bitext(data: Path | None) -> list[tuple[str, str]]:
    if data is None:
        return [(t, i) for t, i in _packed("bitext_customer_support.csv.xz")]
    with (data / "bitext-customer-support" / BITEXT_FILE).open(encoding="utf-8", newline="") as f:
        return [(r["instruction"], r["intent"]) for r in csv.DictReader(f)]


def public_source(data_dir: Path | None) -> Path | None:
    """The shared data folder to read, or None for the packaged data; FileNotFoundError if neither exists.

    An explicitly named folder must exist (a typo must not silently train on something else); the default
    one beside a checkout falls back to the packaged data.
    """
    if data_dir is not None:
        data = Path(data_dir)
        if not data.is_dir():
            raise FileNotFoundError(f"the public training data is not at {data} (ONEVOICE_TRAINING_DATA_DIR or "
                                    "--data); leave it unset to train on the data packaged with OneVoice")
        return data
    if DEFAULT_DATA_DIR.is_dir():
        return DEFAULT_DATA_DIR
    if packaged_available():
        return None
    raise FileNotFoundError(f"no public training data: neither {DEFAULT_DATA_DIR} nor the packaged data "
                            f"({PACKAGED_DATA_DIR}) is there")


def load(data_dir: Path | None = None, extra: list[tuple[str, str, str]] = (), limit: int | None = None,
         rng_seed: int = 13, teacher: Callable[[list[str]], list[str]] | None = None) -> dict[str, Split]:
    """Per head, (text, label) pairs to train on and named held-out sets to evaluate on.

    extra: (text, head, label) from corrections and an organization's own history; always trained on.
    limit: cap each public source (for fast tests); the seed sets and extra are never capped.
    teacher: texts -> sentiment labels (the active model), used only when TweetEval is not available.
    """
    data = public_source(data_dir)
    rng = random.Random(rng_seed)
    source = f"shared data at {data}" if data is not None else "packaged"
    heads = {name: Split(source=source) for name in HEADS}

    def cap(rows: list) -> list:
        rows = list(rows)
        rng.shuffle(rows)
        return rows[:limit] if limit else rows

    for r in read_seed() + read_brand_posts():
        side = "seed" if held_out(r["text"]) else None
        complaint = r.get("complaint") or ("1" if r["intent"] in COMPLAINT_INTENTS else "0")
        for head, label in (("intent", r["intent"]), ("sentiment", r["sentiment"]),
                            ("complaint", "yes" if complaint == "1" else "no")):
            (heads[head].eval[side].append if side else heads[head].seed.append)((r["text"], label))
        if r["intent"] != "safety_risk" and not side:
            heads["crisis"].train.append((r["text"], "no"))

    if data is not None:
        _tweeteval_heads(data, heads, cap)
    _public(data, heads, cap)
    if data is None and teacher is not None:
        # No TweetEval: the active model's sentiment on general tweets keeps what it learned from it.
        texts = [t for t, _ in cap(_acts(None))][:TEACHER_SAMPLE]
        heads["sentiment"].train += list(zip(texts, teacher(texts), strict=True))
    for text, head, label in extra:
        heads[head].extra.append((text, label))
    return heads


def _yes_no(task: str, label: str) -> str:
    """Binary heads answer yes/no, so every binary head reads the same way."""
    return {"offensive": "yes", "not-offensive": "no", "hate": "yes", "not-hate": "no"}.get(label, label)


def _tweeteval_heads(data: Path, heads: dict[str, Split], cap) -> None:
    for task in TWEETEVAL_ONLY:
        heads[task].train += [(t, _yes_no(task, lab)) for t, lab in cap(_tweeteval(data, task, "train"))]
        heads[task].eval["tweeteval-val"] = [(t, _yes_no(task, lab)) for t, lab in _tweeteval(data, task, "val")]
    # Only the validation split of TweetEval sentiment is public here: train on one half, report the other.
    for text, label in cap(_tweeteval(data, "sentiment", "val")):
        (heads["sentiment"].eval["tweeteval-val-half"].append if held_out(text, 0.5)
         else heads["sentiment"].train.append)((text, label))
    heads["sentiment"].train += [(t, EMOTION_SENTIMENT[lab]) for t, lab in cap(_tweeteval(data, "emotion", "train"))]


def _public(data: Path | None, heads: dict[str, Split], cap) -> None:
    """Tweet acts, CrisisLex and Bitext: from the shared folder, or (data None) from the package."""
    # Bitext is synthetic and templated: a sample is enough, more would drown the brand-directed seed set.
    bitext = cap(_bitext(data))[:1500]
    for text, intent in bitext:
        label = BITEXT_LEAD.get(intent, "question")
        (heads["intent"].eval["bitext"].append if held_out(text) else heads["intent"].train.append)((text, label))
        heads["sentiment"].train.append((text, "negative" if label == "complaint" else "neutral"))
        heads["crisis"].train.append((text, "no"))
        complaint = "yes" if intent in BITEXT_COMPLAINT else "no"
        (heads["complaint"].eval["bitext"].append if held_out(text) else heads["complaint"].train.append)(
            (text, complaint))

    by_label = defaultdict(list)
    for text, label in cap(_acts(data)):
        by_label[label].append((text, label))
    for text, label in by_label["question"] + by_label["other"][:900]:
        (heads["intent"].eval["tweet-acts"].append if held_out(text) else heads["intent"].train.append)(
            (text, label))
    # General tweets are mostly not complaints to a brand: they teach the complaint head what ordinary
    # talk (news, opinions, questions) looks like, so negativity alone does not make a complaint.
    for text, _ in by_label["question"][:400] + by_label["other"][:800]:
        heads["complaint"].train.append((text, "no"))

    # Crisis: hold out whole events, so the score says how the head does on a disaster it never saw.
    held_events = {"2013_Boston_bombings-tweets_labeled", "2013_Alberta_floods-tweets_labeled"}
    for event, text, label in cap(_crisis(data)):
        (heads["crisis"].eval["crisislex-unseen-events"].append if event in held_events
         else heads["crisis"].train.append)((text, label))
