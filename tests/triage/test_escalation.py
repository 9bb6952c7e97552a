"""The escalation layer: the shipped encoder without torch, the second opinion only where the fast path is
unsure, and the fast path alone when the artifact is missing or does not match."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys

import numpy as np
import pytest

from onevoice.triage.complaint import COMPLAINT_INTENTS, reconcile
from onevoice.triage.dense import DenseSignals
from onevoice.triage.encoder import PACKAGED_ENCODER_DIR, StaticEncoder, WordPiece
from onevoice.triage.escalation import (
    DEFAULT_POLICY,
    EscalatingTriager,
    EscalationHeads,
    fast_intent_distribution,
    fast_sentiment_distribution,
    features,
    unsure,
)
from onevoice.triage.heads import PACKAGED_MODEL_DIR
from onevoice.triage.triager import FastTriager
from onevoice.triage.types import INTENTS, TriageInput, TriageResult

# The fast path reads this as a question and is unsure; the encoder hears the complaint (the shipped model).
UNSURE = "@acme where is my parcel"
SURE = [
    "@acme I will sue you, my lawyer is already drafting the claim",
    "@acme the battery caught fire while charging, my kid got burned",
    "@acme can I change the delivery address on my order?",
    "@acme who handles media requests? I'm writing a story for the Times",
    "@acme it would be nice if the app had a dark mode",
]


@pytest.fixture(scope="module")
def fast() -> FastTriager:
    return FastTriager()


@pytest.fixture(scope="module")
def escalating(fast) -> EscalatingTriager:
    # The static encoder's layer alone; with the sentiment transformer: tests/triage/test_sentiment_transformer.py.
    return EscalatingTriager(fast, sentiment_model=False)


def test_the_encoder_loads_and_embeds_without_torch():
    # torch blocked outright: importing it would raise, so any use of it in the runtime path fails here.
    code = ("import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
            "from onevoice.triage.encoder import StaticEncoder\n"
            "e = StaticEncoder(); v = e.encode(['my order never arrived', 'the parcel did not come',"
            " 'love the new ad campaign', ''])\n"
            "near, far = float(v[0] @ v[1]), float(v[0] @ v[2])\n"
            "from onevoice.triage.escalation import EscalatingTriager, Policy\n"
            "from onevoice.triage.triager import FastTriager\n"
            "from onevoice.triage.types import TriageInput\n"
            # Every message escalates under this policy, whatever the model is sure of.
            "r = EscalatingTriager(FastTriager(), policy=Policy(intent_below=1.01)).triage("
            f"TriageInput(text={UNSURE!r}))\n"
            "print(v.shape[1], round(float((v[:3] ** 2).sum(1).mean()), 3), float(abs(v[3]).sum()), near > far,"
            " 'escalation' in r.scores)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    dims, norm, empty, closer, escalated = out.stdout.split()
    assert int(dims) == StaticEncoder().dims and float(norm) == 1.0 and float(empty) == 0.0
    assert closer == "True"  # paraphrases are nearer than unrelated text: the vectors carry meaning
    assert escalated == "True"  # the whole layer ran with torch unimportable


def test_wordpiece_follows_bert_uncased():
    vocab = {t: i for i, t in enumerate(["[UNK]", "band", "##wa", "##gon", "cafe", "!", "@", "acme", "東", "x", "##y"])}
    wp = WordPiece(vocab)
    assert wp.ids("x\x0by") == [9, 10] and wp.ids("x\ty") == [9]  # a vertical tab is deleted, a tab splits
    assert wp.ids("Bandwagon") == [1, 2, 3]
    assert wp.ids("@ACME Café!!") == [6, 7, 4, 5, 5]  # accents stripped, punctuation split, lower-cased
    assert wp.ids("東京 zzz") == [8]  # each ideograph is a word; what the vocabulary cannot cover is dropped
    assert wp.ids("") == []


def test_sure_messages_keep_the_fast_answer(fast, escalating):
    items = [TriageInput(text=t) for t in SURE]
    for f, e in zip(fast.triage_batch(items), escalating.triage_batch(items), strict=True):
        assert not unsure(f)
        assert e.to_dict() == f.to_dict()


def test_unsure_messages_get_a_second_opinion(fast, escalating):
    item = TriageInput(text=UNSURE, author_followers=20_000)
    f, e = fast.triage(item), escalating.triage(item)
    assert unsure(f) == [f"intent {f.intent_confidence:.0%} sure"]
    # The fast path reads this as a question; the encoder hears the complaint, and the average follows it.
    assert (f.intent, e.intent) == ("question", "complaint")
    esc = e.scores["escalation"]
    assert esc["fast"]["intent"] == "question" and esc["encoder"]["intent"]["complaint"] > 0.5
    assert "intent" in esc["changed"]
    assert any(line.startswith("escalated (intent") and "encoder says complaint" in line for line in e.explanation)
    # Urgency follows the combined answer: negative, from an author with 20,000 followers.
    assert e.urgency == "high" and e.explanation[-1].startswith("urgency high")
    assert sum(line.startswith("urgency") for line in e.explanation) == 1


def test_neither_answer_silently_wins(escalating):
    """A fast answer that is unsure but not wrong survives an encoder that disagrees mildly."""
    heads = EscalationHeads.load(PACKAGED_MODEL_DIR)
    text = UNSURE
    probs = heads.probabilities(features(StaticEncoder(), DenseSignals(), [text]))["intent"][0]
    encoder_says = dict(zip(heads.heads["intent"][0], probs.tolist(), strict=True))

    class Stub:
        model_version = "stub"

        def __init__(self, confidence):
            self.confidence = confidence

        def triage_batch(self, items):
            # As unsure whether it is a complaint as about its intent.
            return [TriageResult(sentiment="neutral", sentiment_score=0.0, intent="question",
                                 intent_confidence=self.confidence, intent_runner_up=None, urgency="normal",
                                 language="en", complaint_probability=0.5) for _ in items]

    w = DEFAULT_POLICY.fast_weight
    for confidence in (0.2, 0.49):
        result = EscalatingTriager(Stub(confidence)).triage(TriageInput(text=text))
        fast_q = fast_intent_distribution(Stub(confidence).triage_batch([None])[0])
        expected = {c: w * fast_q[c] + (1 - w) * encoder_says[c] for c in INTENTS}
        best = max(expected, key=expected.get)
        # ... and the complaint signal (the stub's averaged with the encoder's complaint share) has its say.
        p = w * 0.5 + (1 - w) * sum(encoder_says[c] for c in COMPLAINT_INTENTS)
        assert result.complaint_probability == round(p, 4)
        intent, conf, _, _ = reconcile(expected, p, best, expected[best])
        assert result.intent == intent
        assert result.intent_confidence == pytest.approx(conf, abs=1e-3)
    # A very unsure fast answer gives way to the encoder's complaint.
    assert EscalatingTriager(Stub(0.2)).triage(TriageInput(text=text)).intent == "complaint"


def test_fast_distributions_are_distributions():
    r = TriageResult(sentiment="negative", sentiment_score=-0.1, intent="complaint", intent_confidence=0.4,
                     intent_runner_up="question", urgency="normal", language="en")
    d = fast_intent_distribution(r)
    assert sum(d.values()) == pytest.approx(1.0) and max(d, key=d.get) == "complaint"
    assert d["question"] > d["praise"]
    s = fast_sentiment_distribution(r)
    assert sum(s.values()) == pytest.approx(1.0) and max(s, key=s.get) == "negative"
    assert unsure(r) == ["intent 40% sure", "sentiment negative at -0.10"]
    r.language = "fr"
    assert unsure(r) == []  # the encoder is English: non-English goes to review, not to it


def test_an_unsure_fast_winner_stays_above_its_runner_up():
    """Half of the rest for the runner-up turned an unsure answer over: a job inquiry at 27 % gave praise 36.5 %."""
    r = TriageResult(sentiment="neutral", sentiment_score=0.0, intent="job_inquiry", intent_confidence=0.27,
                     intent_runner_up="praise", urgency="low", language="en")
    d = fast_intent_distribution(r)
    assert sum(d.values()) == pytest.approx(1.0)
    assert d["job_inquiry"] == 0.27 and d["praise"] == pytest.approx(0.27)  # at most the winner, not above it
    assert all(v < 0.27 for k, v in d.items() if k not in ("job_inquiry", "praise"))


def test_a_missing_artifact_falls_back_to_the_fast_path(fast, tmp_path, caplog):
    model = tmp_path / "model"
    shutil.copytree(PACKAGED_MODEL_DIR, model, ignore=shutil.ignore_patterns("escalation.*"))
    item = TriageInput(text=UNSURE)
    with caplog.at_level(logging.WARNING, logger="onevoice.triage.escalation"):
        tr = EscalatingTriager(fast, model)
    assert not tr.active and "no escalation heads" in caplog.text
    assert tr.triage(item).to_dict() == fast.triage(item).to_dict()

    # Heads trained on another encoder than the one installed: refused on first use, fast path kept.
    other = tmp_path / "other"
    shutil.copytree(PACKAGED_MODEL_DIR, other)
    heads = EscalationHeads.load(other)
    heads.meta["encoder"] = "something-else"
    heads.save(other)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="onevoice.triage.escalation"):
        tr = EscalatingTriager(fast, other)
        result = tr.triage(item)
    assert "escalation disabled" in caplog.text and not tr.active
    assert result.to_dict() == fast.triage(item).to_dict()


def test_the_shipped_artifact_is_small_and_attributed():
    size = sum(p.stat().st_size for p in PACKAGED_ENCODER_DIR.iterdir())
    assert size < 20_000_000
    notice = (PACKAGED_ENCODER_DIR / "NOTICE.txt").read_text()
    assert "all-MiniLM-L6-v2" in notice and "Apache License, Version 2.0" in notice
    heads = EscalationHeads.load(PACKAGED_MODEL_DIR)
    assert heads.meta["encoder"] == StaticEncoder().id
    assert set(heads.heads) >= {"intent", "sentiment"}
    # The embedding plus the fast path's eight dense signals.
    assert heads.weights.shape[0] == StaticEncoder().dims + 8 and np.isfinite(heads.weights).all()


def test_the_pipeline_escalates_by_default_and_can_be_switched_off(settings):
    from onevoice.triage.factory import build_triager

    assert settings.triage_escalation
    assert isinstance(build_triager(settings).current, EscalatingTriager)
    off = build_triager(settings.model_copy(update={"triage_escalation": False}))
    assert type(off.current) is FastTriager
    item = TriageInput(text=UNSURE)
    assert "escalation" not in off.triage(item).scores
    assert "escalation" in build_triager(settings).triage(item).scores


def test_warm_loads_now_what_the_first_unsure_message_would_load(fast, monkeypatch):
    """A worker process warms up before its server answers (worker/child.py): after warm(), the first unsure
    message finds the heads and the encoder loaded, and nothing loads again."""
    loads = []
    real = EscalationHeads.load
    monkeypatch.setattr(EscalationHeads, "load", classmethod(lambda cls, d: loads.append(d) or real.__func__(cls, d)))
    triager = EscalatingTriager(fast, sentiment_model=False)
    assert loads == []  # constructing loads nothing (a worker's cold start stays cheap)
    triager.warm()
    assert len(loads) == 1
    triager.triage_batch([TriageInput(text=UNSURE, kind="mention", channel="x")])
    assert len(loads) == 1
