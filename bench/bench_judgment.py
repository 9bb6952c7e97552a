"""Judgment quality on the project's own dev sets (tests/triage/devsets/) and TweetEval sentiment.

    .venv/bin/python -m bench.bench_judgment [--model-dir DIR] [--no-escalation] [--misses] [--only SET.csv]...

--only scores the named dev sets alone (no TweetEval), so tuning can look at a dev set's misses without
printing a frozen set's.

Per set: complaint (binary) macro-F1 with per-class scores, 3-class sentiment macro-F1, intent accuracy,
and routing by the default playbook: lead-team accuracy and lead + collaborators (exact) accuracy.
A complaint is the result's `complaint` flag when the triage has one, else a complaint-type intent
(complaint, legal_risk, safety_risk), which is how the issue measured the old model.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVSETS = ROOT / "tests" / "triage" / "devsets"
COMPLAINT_INTENTS = {"complaint", "legal_risk", "safety_risk"}
TUESDAY = datetime(2026, 11, 17, 11, 0, tzinfo=UTC)


def is_complaint(result) -> bool:
    flag = getattr(result, "complaint", None)
    return bool(flag) if flag is not None else result.intent in COMPLAINT_INTENTS


def read(name: str) -> list[dict]:
    with (DEVSETS / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def routing(rows: list[dict], results) -> dict:
    from onevoice.routing.factory import default_playbook
    from onevoice.routing.types import RouteInput

    book = default_playbook()
    lead = both = 0
    misses = []
    for row, t in zip(rows, results, strict=True):
        d = book.route(RouteInput(text=row["text"], kind="mention", channel="c", created_at=TUESDAY, triage=t,
                                  channel_kind="x"))
        want = set(filter(None, (row.get("collaborators") or "").split("|")))
        ok_lead = (d.lead_team or "") == row["lead"]
        lead += ok_lead
        both += ok_lead and set(d.collaborators) == want
        if not (ok_lead and set(d.collaborators) == want):
            misses.append(f"{row['text'][:70]!r}: {d.lead_team}+{sorted(d.collaborators)} "
                          f"want {row['lead']}+{sorted(want)}")
    n = len(rows)
    return {"lead": round(lead / n, 3), "lead_and_collaborators": round(both / n, 3), "misses": misses}


def evaluate(triager, name: str) -> dict:
    from onevoice.triage.metrics import score
    from onevoice.triage.types import TriageInput

    rows = read(name)
    results = triager.triage_batch([TriageInput(text=r["text"]) for r in rows])
    out: dict = {"n": len(rows)}
    if "complaint" in rows[0]:
        gold = ["complaint" if r["complaint"] == "1" else "not" for r in rows]
        pred = ["complaint" if is_complaint(x) else "not" for x in results]
        s = score(gold, pred)
        out["complaint"] = {"macro_f1": s["macro_f1"], "per_class": s["per_class"]}
        s = score([r["sentiment"] for r in rows], [x.sentiment for x in results])
        out["sentiment"] = {"macro_f1": s["macro_f1"], "per_class": {k: v["f1"] for k, v in s["per_class"].items()}}
    s = score([r["intent"] for r in rows], [x.intent for x in results])
    out["intent"] = {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}
    out["routing"] = routing(rows, results)
    return out


def tweeteval_sentiment(triager, data: Path) -> dict:
    """The held-out half of TweetEval sentiment validation (the other half is trained on)."""
    from onevoice.triage.datasets import held_out
    from onevoice.triage.metrics import score
    from onevoice.triage.types import TriageInput

    base = data / "tweeteval" / "sentiment"
    names = dict(line.split("\t") for line in (base / "mapping.txt").read_text().splitlines())
    texts = (base / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [names[x.strip()] for x in (base / "val_labels.txt").read_text().splitlines()]
    rows = [(t.strip(), lab) for t, lab in zip(texts, labels, strict=True) if held_out(t.strip(), 0.5)]
    results = triager.triage_batch([TriageInput(text=t) for t, _ in rows])
    s = score([lab for _, lab in rows], [r.sentiment for r in results])
    return {"n": len(rows), "macro_f1": s["macro_f1"], "per_class": {k: v["f1"] for k, v in s["per_class"].items()}}


def main() -> None:
    from onevoice.triage.datasets import DEFAULT_DATA_DIR
    from onevoice.triage.escalation import EscalatingTriager
    from onevoice.triage.triager import FastTriager

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--no-escalation", action="store_true")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--misses", action="store_true", help="print the routing misses")
    parser.add_argument("--only", action="append", default=None,
                        help="score only this dev set (repeatable; TweetEval is skipped): to tune without "
                             "looking at the frozen sets")
    args = parser.parse_args()
    fast = FastTriager(model_dir=args.model_dir)
    triager = fast if args.no_escalation else EscalatingTriager(fast, args.model_dir)
    names = args.only or ["people_frozen.csv", "people_frozen2.csv", "people_dev.csv", "routing_plain.csv",
                          "sarcasm_dev.csv", "sarcasm_frozen.csv", "misread_dev.csv", "misread_frozen.csv"]
    report = {name: evaluate(triager, name) for name in names}
    if not args.only:
        report["tweeteval-sentiment-val-half"] = tweeteval_sentiment(triager, args.data)
    for r in report.values():
        if "routing" in r and not args.misses:
            r["routing"]["misses"] = len(r["routing"]["misses"])
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
