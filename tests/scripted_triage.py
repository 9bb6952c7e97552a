"""A triager for pipeline tests whose answers are written in the test's text, so that pipeline tests do not
depend on the trained models (those have their own tests under tests/triage)."""

from __future__ import annotations

from onevoice.triage.types import TriageInput, TriageResult

WORDS = [
    ("legal_risk", ("sue", "lawyer", "lawsuit")),
    ("spam", ("giveaway", "free followers")),
    ("job_inquiry", ("hiring", "job")),
    ("sales_lead", ("pricing", "quote")),
    ("praise", ("love", "thanks")),
    ("question", ("?",)),
    ("complaint", ("broken", "never arrived", "terrible", "still waiting", "refund")),
]
# Products named in a text (the reports' tests: a case's product is its first message's first one).
PRODUCTS = [("router x", {"key": "router-x", "name": "Router X"}), ("phone z", "phone-z")]


class ScriptedTriager:
    def triage_batch(self, items: list[TriageInput]) -> list[TriageResult]:
        return [self.one(i) for i in items]

    def one(self, item: TriageInput) -> TriageResult:
        text = item.text.lower()
        intent = next((name for name, words in WORDS if any(w in text for w in words)), "other")
        sentiment = {"complaint": "negative", "legal_risk": "negative", "praise": "positive"}.get(intent, "neutral")
        return TriageResult(
            sentiment=sentiment, sentiment_score=-0.8 if sentiment == "negative" else 0.0, intent=intent,
            intent_confidence=0.9, intent_runner_up=None,
            urgency="high" if intent == "legal_risk" else "normal", language="en",
            explanation=[f"scripted: {intent}"], model_version="scripted",
            # As the real triage keeps them: the complaint flag and the complaint-type intents agree.
            complaint=intent in ("complaint", "legal_risk", "safety_risk"),
            complaint_probability=0.9 if intent in ("complaint", "legal_risk", "safety_risk") else 0.1,
            products=[product for words, product in PRODUCTS if words in text],
        )


def scripted_runtime(settings):
    """A runtime whose processor triages with ScriptedTriager and routes with the real playbook."""
    from onevoice.pipeline.processor import Processor
    from onevoice.pipeline.stages import build_router
    from onevoice.runtime import build_runtime

    runtime = build_runtime(settings)
    runtime._processor = Processor(runtime.session_factory, ScriptedTriager(),
                                   build_router(settings, runtime.session_factory))
    return runtime
