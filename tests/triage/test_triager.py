"""The trained heads through the fast path, on realistic brand-directed posts.

These fail if a head is broken (wrong column, untrained, swapped classes), not only if the code crashes.
"""

from __future__ import annotations

import pytest

from onevoice.triage import datasets
from onevoice.triage.metrics import score
from onevoice.triage.types import INTENTS, TriageInput

BY_INTENT = {
    "complaint": "I've been waiting three weeks for my refund and nobody replies to my emails. Awful service",
    "question": "Do you deliver to Ireland? Couldn't find it on the website",
    "praise": "Huge thanks to the team in the Leeds store, they sorted my phone in ten minutes. Brilliant!",
    "suggestion": "Please add a dark mode to the app, would be great for night shifts",
    "sales_lead": "We're a 60-person company looking to buy 60 seats of your business plan, can we get a quote?",
    "job_inquiry": "Are you hiring junior developers? I'd love to send my CV",
    "press_inquiry": "Hi, I'm a reporter at the Evening Post writing about the outage, can your press office comment?",
    "partnership": "We run a cycling podcast and would love to discuss a sponsorship for next season",
    "legal_risk": "If you don't refund me by Friday my lawyer will file a claim in small claims court",
    "safety_risk": "The charger started smoking and burned my son's hand, we spent the night in hospital",
    "spam": "🔥 GIVEAWAY 🔥 click the link in my bio to win free followers and a new iPhone",
    "other": "watching the game tonight with the lads",
}


@pytest.mark.parametrize("intent,text", BY_INTENT.items())
def test_each_intent_on_a_realistic_post(triager, intent, text):
    r = triager.triage(TriageInput(text=text))
    assert r.intent == intent, r.explanation
    assert 0 < r.intent_confidence <= 1
    assert r.model_version == triager.model_version


@pytest.mark.parametrize("text,sentiment", [
    ("This is the worst airline I have ever flown with. Never again.", "negative"),
    ("Absolutely love my new bike, best purchase this year!", "positive"),
    ("The store opens at 9am on Saturdays.", "neutral"),
])
def test_sentiment_head(triager, text, sentiment):
    r = triager.triage(TriageInput(text=text))
    assert r.sentiment == sentiment, r.explanation
    # The score is P(positive) - P(negative): its sign follows a polar answer; a neutral one stays near 0.
    if sentiment == "neutral":
        assert abs(r.sentiment_score) < 0.3
    else:
        assert (r.sentiment_score < 0) == (sentiment == "negative")


def test_offensive_hate_and_crisis_heads(triager):
    rude = triager.triage(TriageInput(text="you are a bunch of fucking idiots, shut the hell up"))
    assert rude.flags.get("offensive") and rude.scores["offensive"] > 0.7
    calm = triager.triage(TriageInput(text="Thanks for the quick reply, have a good weekend"))
    assert not calm.flags.get("offensive") and calm.scores["offensive"] < 0.3
    flood = triager.triage(TriageInput(
        text="Flood waters rising fast in the city centre, roads closed and people evacuated from their homes"))
    assert flood.scores["crisis"] > calm.scores["crisis"] + 0.3
    angry = triager.triage(TriageInput(text="I am furious, this is outrageous and infuriating"))
    assert max(angry.scores["emotion"], key=angry.scores["emotion"].get) == "anger"


def test_intent_quality_on_the_held_out_seed_examples(triager):
    """The seed examples the heads never saw: a broken intent head or rule set drops far below this."""
    rows = [r for r in datasets.read_seed() if datasets.held_out(r["text"])]
    assert len(rows) > 40
    results = triager.triage_batch([TriageInput(text=r["text"]) for r in rows])
    s = score([r["intent"] for r in rows], [x.intent for x in results])
    # Measured 0.66 with the shipped model; a broken head or rule set lands far below 0.6.
    assert s["accuracy"] >= 0.6, s


def test_non_english_is_not_forced_into_an_english_label(triager):
    r = triager.triage(TriageInput(text="Ich warte seit drei Wochen auf meine Bestellung, was ist los"))
    assert r.language == "de"
    assert "needs_review" in r.flags
    assert r.intent in ("other", "complaint")
    legal = triager.triage(TriageInput(text="Je vais porter plainte, mon avocat est déjà au courant"))
    assert legal.language == "fr" and legal.intent == "legal_risk"  # language-aware rule


def test_undetermined_language_for_emoji_and_short_text(triager):
    for text in ("👍🔥🔥", "ok", ""):
        assert triager.triage(TriageInput(text=text)).language == "und"


def test_runner_up_when_close_and_explanation_is_readable(triager):
    r = triager.triage(TriageInput(text="Still waiting for my refund, my lawyer says this is illegal"))
    assert r.intent in ("legal_risk", "complaint")
    explanation = " | ".join(r.explanation)
    assert "rule legal-words matched" in explanation and "sentiment" in explanation and "urgency" in explanation
    assert r.intent_runner_up in (None, *INTENTS)


def test_urgency_rises_with_reach_and_repetition(triager):
    text = "Your app keeps crashing and I lost all my notes. Terrible."
    base = triager.triage(TriageInput(text=text))
    loud = triager.triage(TriageInput(text=text, author_followers=250_000))
    again = triager.triage(TriageInput(text=text, prior_messages=3))
    levels = ("low", "normal", "high", "critical")
    assert levels.index(loud.urgency) > levels.index(base.urgency)
    assert levels.index(again.urgency) > levels.index(base.urgency)
    assert triager.triage(TriageInput(text=BY_INTENT["safety_risk"])).urgency == "critical"
    assert triager.triage(TriageInput(text="I will kill you when I find you")).flags.get("threat")


def test_products_pii_and_topics_in_the_result(triager):
    r = triager.triage(TriageInput(text="My #VoltixV3 battery died again, email me at ana@example.com"))
    assert r.products == ["voltix-v3"]
    assert r.flags["pii"] == ["email"]
    assert "products: voltix-v3" in " ".join(r.explanation)


def test_batch_equals_one_at_a_time(triager):
    texts = list(BY_INTENT.values())
    batch = triager.triage_batch([TriageInput(text=t) for t in texts])
    single = [triager.triage(TriageInput(text=t)) for t in texts]
    assert [(b.intent, b.sentiment, round(b.intent_confidence, 3)) for b in batch] == \
           [(s.intent, s.sentiment, round(s.intent_confidence, 3)) for s in single]
    assert triager.triage_batch([]) == []
