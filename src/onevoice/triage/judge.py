"""Judging a candidate model: the organization's own held-out labels first, the public sets as a guard.

A model that learned an organization's language is worth switching on even when it is a hair worse on
public tweets nobody at that organization writes. So `onevoice model train` (and the automatic retraining)
holds out a stable quarter of the organization's labels (corrections and `--examples`), scores the
candidate and the active model on them through the full triage (rules and the complaint signal included),
and switches the candidate on when it is better there and no more than PUBLIC_TOLERANCE worse on the
public held-out sets. With too few of the organization's labels to judge on, the public sets decide, as
before, within TOLERANCE.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from onevoice.triage.datasets import held_out
from onevoice.triage.metrics import score
from onevoice.triage.types import TriageInput

ORG_SHARE = 0.25
# Fewer held-out labels than this (over all heads) cannot tell two models apart.
MIN_ORG_EVAL = 8
# Mean macro-F1 on the organization's held-out labels: within this, the two models are even.
ORG_TIE = 0.005
# How much worse on the public sets a candidate that is better on the organization's labels may be.
PUBLIC_TOLERANCE = 0.02
# Without the organization's labels: a new version may be this much worse and still count as "not worse".
TOLERANCE = 0.005


def split_org(extra: list[tuple[str, str, str]]) -> tuple[list[tuple[str, str, str]], dict[str, list]]:
    """(labels to train on, held-out labels per head). The same text always falls on the same side."""
    train, holdout = [], defaultdict(list)
    for text, head, label in extra:
        if held_out(text, ORG_SHARE):
            holdout[head].append((text, label))
        else:
            train.append((text, head, label))
    return train, dict(holdout)


def _answer(head: str, result) -> str:
    if head == "complaint":
        return "yes" if result.complaint else "no"
    return getattr(result, head)


def score_org(triager, holdout: dict[str, list]) -> dict:
    """Per head: n, macro-F1 and per-class F1 of the full triage on the organization's held-out labels."""
    out = {}
    for head, rows in holdout.items():
        if not rows:
            continue
        results = triager.triage_batch([TriageInput(text=t) for t, _ in rows])
        s = score([lab for _, lab in rows], [_answer(head, r) for r in results])
        out[head] = {"n": s["n"], "macro_f1": s["macro_f1"], "accuracy": s["accuracy"],
                     "per_class": {k: v["f1"] for k, v in s["per_class"].items() if v["support"]}}
    return out


def mean_f1(scores: dict) -> float | None:
    values = [m["macro_f1"] for m in scores.values()]
    return round(sum(values) / len(values), 4) if values else None


@dataclass
class Verdict:
    activate: bool
    reason: str


def decide(org_new: dict, org_base: dict, public_new: float, public_base: float, force: bool = False,
           tolerance: float = TOLERANCE) -> Verdict:
    """Whether to switch the candidate on, and why (shown by the CLI and the models page)."""
    n_org = sum(m["n"] for m in org_new.values())
    public = f"public {public_new:.4f} vs {public_base:.4f}"
    if force:
        return Verdict(True, f"forced ({public})")
    new, base = mean_f1(org_new), mean_f1(org_base)
    if n_org >= MIN_ORG_EVAL and new is not None and base is not None:
        org = f"your held-out labels {new:.4f} vs {base:.4f} (n={n_org})"
        if new > base + ORG_TIE:
            if public_new >= public_base - PUBLIC_TOLERANCE:
                return Verdict(True, f"better on {org}; {public} is within {PUBLIC_TOLERANCE}")
            return Verdict(False, f"better on {org} but {public} is more than {PUBLIC_TOLERANCE} lower")
        if new < base - ORG_TIE:
            return Verdict(False, f"worse on {org}")
        if public_new >= public_base - tolerance:
            return Verdict(True, f"even on {org}; {public} is not worse")
        return Verdict(False, f"even on {org}; {public} is lower")
    few = f"only {n_org} of your labels held out (< {MIN_ORG_EVAL}): judged on the public sets, "
    if public_new >= public_base - tolerance:
        return Verdict(True, few + f"{public} is not worse")
    return Verdict(False, few + f"{public} is lower")
