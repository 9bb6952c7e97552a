"""The complaint signal: is this message a breach of the customer's expectations, however it is phrased?

A speech-act intent says what a message does (asks, thanks, suggests); a complaint is what it is about (a
fault, a delay, a charge, a bad experience), and a question, a sarcastic thank-you or a plain report of a
fault can all be one. So besides the intent every message carries `complaint_probability`, calibrated
(Platt scaling on held-out brand posts, `train.calibrate_complaint`) from five signals:

- the complaint head's log-odds (hashed words, trained on brand posts, seed, Bitext and general tweets),
- the intent head's log-odds of a complaint-type intent (complaint, legal_risk, safety_risk), rules included,
- P(negative) and P(positive) from the sentiment head,
- how much the complaint-type rules added.

The complaint-type intents follow the signal (`reconcile`): a complaint read as a question, praise, a
suggestion or nothing in particular becomes intent `complaint`; a message read as intent `complaint` that
the signal does not hold for takes its best other intent of those that say how it is put (question, other,
praise, suggestion), never a department's (a job, a sale, the press, a partnership). Legal and safety
risks always count as complaints (a risk is never hidden), and spam never does.
"""

from __future__ import annotations

import numpy as np

FEATURES = ("head_logodds", "intent_logodds", "negative", "positive", "rule_boost")
COMPLAINT_INTENTS = ("complaint", "legal_risk", "safety_risk")
THRESHOLD = 0.5
# A complaint this likely is a negative experience, however politely or sarcastically it is put ("thanks
# so much for bricking my phone"). Picked on the development set (tests/triage/devsets/people_dev.csv):
# sentiment macro-F1 0.726 -> 0.780 there, TweetEval (not brand-directed) 0.569 -> 0.565.
NEGATIVE_FROM = 0.6
# Below this the explanation does not look for the words behind the signal (it costs a pass over the words).
WORDS_FROM = 0.3
# Intents that say how a message is put, not what it is about: a complaint signal overrides them.
MANNER_INTENTS = frozenset({"question", "other", "praise", "suggestion"})
_EPS = 1e-4


def logodds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def signals(head_logit: np.ndarray | None, intent_complaint: np.ndarray, negative: np.ndarray,
            positive: np.ndarray, rule_boost: np.ndarray) -> np.ndarray:
    """The (n, 5) matrix the calibration reads, in FEATURES order."""
    head = head_logit if head_logit is not None else logodds(intent_complaint)
    return np.column_stack([head, logodds(intent_complaint), negative, positive, rule_boost]).astype(np.float64)


class Calibration:
    """P(complaint) from the signals; without a fitted calibration (an older model), the raw evidence."""

    def __init__(self, meta: dict | None, has_head: bool) -> None:
        meta = meta or {}
        self.coef = np.array(meta["coef"], dtype=np.float64) if meta.get("coef") else None
        self.intercept = float(meta.get("intercept", 0.0))
        self.has_head = has_head

    def probability(self, x: np.ndarray) -> np.ndarray:
        if self.coef is not None:
            z = x @ self.coef + self.intercept
        elif self.has_head:
            z = x[:, 0]
        else:  # a model from before the complaint head: the complaint-type intents' share
            z = x[:, 1]
        return 1.0 / (1.0 + np.exp(-z))


def reconcile(dist: dict[str, float], p: float, intent: str, confidence: float,
              negative: bool = False) -> tuple[str, float, bool, str]:
    """(intent, its confidence, complaint flag, a sentence when the intent changed, else "").

    `negative`: the sentiment read is negative, so a complaint that falls short is not taken for praise (stop 32:
    "...aged out a long time ago. Do better Utah." became praise at 22 % beside a negative sentiment)."""
    complaint = p >= THRESHOLD
    if intent in ("legal_risk", "safety_risk"):
        return intent, confidence, True, ""
    if intent == "spam":
        return intent, confidence, False, ""
    if complaint and intent != "complaint" and (intent in MANNER_INTENTS or p >= confidence):
        return "complaint", round(p, 4), True, (f"intent complaint: the complaint signal ({p:.0%}) outweighs "
                                                f"{intent} ({confidence:.0%})")
    if not complaint and intent == "complaint":
        # Only how it is put (a question, a remark...): a department's intent reached by elimination sent an
        # outage report, "Is your service down? Nothing loads", to HR as a job inquiry (32 % against a 36 %
        # complaint). A job, a sale or the press is read first or not at all.
        others = {k: v for k, v in dist.items() if k in MANNER_INTENTS and not (negative and k == "praise")}
        if others:
            best = max(others, key=others.get)
            return best, round(others[best], 4), False, (f"intent {best}: read as complaint ({confidence:.0%}) "
                                                         f"but the complaint signal is only {p:.0%}")
    return intent, confidence, complaint, ""


def sentiment_follows(p: float, sentiment: str, score: float) -> tuple[str, float, str]:
    """(sentiment, score, a sentence when it changed): a likely complaint reads as negative."""
    if p < NEGATIVE_FROM or sentiment == "negative":
        return sentiment, score, ""
    new_score = round(min(score, THRESHOLD - p), 4)
    return "negative", new_score, f"sentiment negative ({new_score:+.2f}): a complaint ({p:.0%}) is a bad experience"


def describe(p: float, words: list[str], negative: float, rule: str | None, question: bool) -> tuple[list[str], str]:
    """The reasons behind the probability, and the explanation line that shows them."""
    reasons: list[str] = []
    if words:
        reasons.append("words '" + "', '".join(words) + "'")
    if negative >= 0.5:
        reasons.append(f"negative ({negative:.0%})")
    if rule:
        reasons.append(f"rule matched '{rule}'")
    if question and p >= THRESHOLD:
        reasons.append("asked as a question")
    head = f"complaint {p:.0%}" if p >= THRESHOLD else f"not a complaint ({p:.0%} complaint)"
    return reasons, head + (": " + "; ".join(reasons) if reasons else "")
