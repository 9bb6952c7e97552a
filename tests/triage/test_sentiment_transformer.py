"""The fine-tuned sentiment transformer (triage/transformer.py): shipped as int8 ONNX, run with onnxruntime
without torch, read by escalation for the messages the fast path is unsure about, and left out cleanly."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from onevoice.triage.escalation import DEFAULT_POLICY, EscalatingTriager, fast_sentiment_distribution, unsure
from onevoice.triage.transformer import PACKAGED_SENTIMENT_DIR, SentimentTransformer
from onevoice.triage.triager import FastTriager
from onevoice.triage.types import TriageInput, TriageResult


@pytest.fixture(scope="module")
def model() -> SentimentTransformer:
    return SentimentTransformer()


def test_it_runs_without_torch():
    # torch and transformers blocked outright: any use of them at run time fails here.
    code = ("import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
            "from onevoice.triage.transformer import SentimentTransformer\n"
            "m = SentimentTransformer(); p = m.probabilities(['I love it, thank you so much!', ''])\n"
            "print(m.classes[int(p[0].argmax())], round(float(p.sum()), 3))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["positive", "2.0"]


def test_it_reads_the_three_classes(model):
    texts = ["@acme worst service ever, two hours on hold and nobody cares. never again",
             "@acme the store on Main Street opens at 9am on Mondays",
             "@acme just unboxed my speaker, the sound is incredible, thank you!"]
    p = model.probabilities(texts)
    assert p.shape == (3, 3) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert [model.classes[i] for i in p.argmax(axis=1)] == ["negative", "neutral", "positive"]


def test_a_text_gets_the_same_answer_whatever_it_is_batched_with(model):
    texts = ["great!", "this is " + "really " * 200 + "awful", "meh", "", "🙂🙂🙂", "thanks for nothing @FlyQuick"]
    together = model.probabilities(texts)
    one_by_one = np.vstack([model.probabilities([t]) for t in texts])
    assert np.array_equal(together, one_by_one)
    assert np.array_equal(model.probabilities(texts[::-1])[::-1], together)
    # Long texts are cut to the model's window, never beyond it.
    assert len(model.ids("word " * 1000)) == model.max_tokens


def test_a_known_input_is_answered_from_the_cache_with_the_same_answer():
    texts = ["@acme worst service ever, never again", "thanks for nothing @FlyQuick", "great!"]
    uncached = SentimentTransformer(cache_size=0)
    cached = SentimentTransformer(cache_size=2)
    first = cached.probabilities(texts)
    assert (cached.runs, cached.cache_hits) == (3, 0)
    # The last two are kept (the bound is 2): read again they do not run, and give exactly what a run gives.
    again = cached.probabilities(texts[1:] + ["GREAT!"])  # the uncased model reads "GREAT!" as "great!"
    assert (cached.runs, cached.cache_hits) == (3, 3)
    assert np.array_equal(again, uncached.probabilities(texts[1:] + ["great!"]))
    assert np.array_equal(first, uncached.probabilities(texts))
    # The first text was pushed out by the bound: it runs again.
    cached.probabilities(texts[:1])
    assert cached.runs == 4 and len(cached._cache) == 2
    assert uncached.runs == 6 and uncached.cache_hits == 0


def test_the_shipped_model_is_small_and_attributed():
    size = sum(p.stat().st_size for p in PACKAGED_SENTIMENT_DIR.iterdir())
    assert size < 40_000_000  # the whole shipped model (heads, encoder, this) stays far under 100 MB
    notice = (PACKAGED_SENTIMENT_DIR / "NOTICE.txt").read_text()
    assert "all-MiniLM-L6-v2" in notice and "Apache License, Version 2.0" in notice


class Fixed:
    """Stands for the transformer: the same answer for every text."""

    classes = ["negative", "neutral", "positive"]

    def __init__(self, probs):
        self.probs = np.asarray(probs, dtype=np.float32)
        self.calls = 0

    def probabilities(self, texts):
        self.calls += len(texts)
        return np.tile(self.probs, (len(texts), 1))


class Unsure:
    model_version = "stub"

    def triage_batch(self, items):
        # Neutral but leaning positive, sure of its intent: unsure only about sentiment.
        return [TriageResult(sentiment="neutral", sentiment_score=0.45, intent="praise", intent_confidence=0.9,
                             intent_runner_up=None, urgency="low", language="en", complaint_probability=0.05)
                for _ in items]


def test_escalation_averages_three_opinions_with_the_policys_weights():
    tf = Fixed([0.05, 0.15, 0.80])
    weights = (0.5, 0.0, 0.5)
    policy = replace(DEFAULT_POLICY, sentiment_weights=weights)
    tr = EscalatingTriager(Unsure(), policy=policy, sentiment_model=tf)
    result = tr.triage(TriageInput(text="@acme the new menu"))
    fast = fast_sentiment_distribution(Unsure().triage_batch([None])[0])
    expected = {c: 0.5 * fast[c] + 0.5 * p for c, p in zip(tf.classes, tf.probs.tolist(), strict=True)}
    assert result.sentiment == "positive" and tf.calls == 1
    assert result.sentiment_score == pytest.approx(expected["positive"] - expected["negative"], abs=1e-4)
    esc = result.scores["escalation"]
    assert esc["transformer"]["sentiment"]["positive"] == pytest.approx(0.8, abs=1e-3)
    assert "sentiment" in esc["changed"]
    assert any("sentiment transformer says positive (80%)" in line for line in result.explanation)


def test_sure_messages_never_reach_the_transformer():
    tf = Fixed([0.9, 0.05, 0.05])
    fast = FastTriager()
    tr = EscalatingTriager(fast, sentiment_model=tf)
    items = [TriageInput(text="@acme I will sue you, my lawyer is already drafting the claim")]
    assert not unsure(fast.triage_batch(items)[0], DEFAULT_POLICY, transformer=True)
    assert tr.triage_batch(items)[0].to_dict() == fast.triage_batch(items)[0].to_dict() and tf.calls == 0


def test_the_packaged_transformer_is_used_by_default_and_can_be_left_out(tmp_path):
    fast = FastTriager()
    assert EscalatingTriager(fast).uses_transformer
    assert not EscalatingTriager(fast, sentiment_model=False).uses_transformer
    # A directory without the model's files: escalation goes on with the static encoder alone.
    without = EscalatingTriager(fast, sentiment_model=tmp_path)
    assert not without.uses_transformer
    # The fast path reads this as negative (-0.16): unsure about sentiment, which the transformer reads. ("deserves
    # a raise", the example before round 5, is a slang compliment the rules read now: the fast path is sure of it.)
    item = TriageInput(text="The new app update is so smooth, whoever designed it deserves a vacation")
    result = without.triage(item)
    assert "escalation" in result.scores and "transformer" not in result.scores["escalation"]
    with_it = EscalatingTriager(fast).triage(item)
    assert with_it.scores["escalation"]["transformer"]["sentiment"]["positive"] > 0.5
    assert with_it.sentiment == "positive" and fast.triage(item).sentiment == "negative"
    # Unsure only about intent: the transformer is not asked (it costs ~15 fast-path messages).
    intent_only = EscalatingTriager(fast).triage(TriageInput(text="@acme where is my parcel"))
    assert "escalation" in intent_only.scores and "transformer" not in intent_only.scores["escalation"]


def test_with_the_transformer_intent_and_complaint_are_escalated_as_before():
    """The transformer reads sentiment only: where the static layer changes an intent, it still does."""
    fast = FastTriager()
    texts = ["@acme where is my parcel", "@acme I waited two weeks for this", "@acme the app logs me out",
             "@acme thanks for nothing", "@acme is the store open on sunday", "@acme love the new colours",
             "Whoever wrote the new help pages at @NimbusCloud: thank you, I fixed it myself",
             "It's raining again. Of course it is.",
             "The new app update is so smooth, whoever designed it deserves a raise"]
    items = [TriageInput(text=t) for t in texts]
    static = EscalatingTriager(fast, sentiment_model=False).triage_batch(items)
    both = EscalatingTriager(fast).triage_batch(items)
    for a, b in zip(static, both, strict=True):
        assert (a.intent, a.intent_confidence, a.complaint, a.complaint_probability) == (
            b.intent, b.intent_confidence, b.complaint, b.complaint_probability)
    assert static[0].intent == "complaint"
    assert any(b.scores.get("escalation", {}).get("sentiment_only") for b in both)
