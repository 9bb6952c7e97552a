"""A small, honest keyword triage: the baseline the trained models must beat.

It really decides (keywords and VADER's lexicon), it is fast, and it needs no model files.
"""

from __future__ import annotations

import re

from onevoice.triage.types import TriageInput, TriageResult

_KEYWORDS: list[tuple[str, re.Pattern[str]]] = [
    ("legal_risk", re.compile(r"\b(lawyer|attorney|sue|suing|lawsuit|legal action|court|regulator)\b", re.I)),
    ("safety_risk", re.compile(r"\b(injur\w*|burn(ed|t)?|fire|explod\w*|hospital|danger\w*|unsafe)\b", re.I)),
    ("spam", re.compile(r"\b(giveaway|click here|free followers|crypto|earn \$?\d+|dm me to win)\b", re.I)),
    ("job_inquiry", re.compile(r"\b(hiring|job|jobs|career|internship|vacanc\w*|apply|position)\b", re.I)),
    ("press_inquiry", re.compile(r"\b(journalist|reporter|press|interview|comment for (a|an|our) (story|article))\b",
                                 re.I)),
    ("partnership", re.compile(r"\b(partner(ship)?|collaborat\w*|reseller|affiliate|sponsor\w*)\b", re.I)),
    ("sales_lead", re.compile(r"\b(pricing|price|quote|demo|buy|purchase|licen[cs]es?|enterprise plan|seats)\b",
                              re.I)),
    ("complaint", re.compile(r"\b(broken|doesn'?t work|not working|refund|worst|terrible|awful|angry|"
                             r"disappoint\w*|still waiting|never arrived|charged twice|scam|useless)\b", re.I)),
    ("suggestion", re.compile(r"\b(you should|please add|feature request|would be (nice|great)|suggest\w*)\b",
                              re.I)),
    ("praise", re.compile(r"\b(love|thank(s| you)|awesome|amazing|great job|best|fantastic)\b", re.I)),
    ("question", re.compile(r"\?|\b(how do i|how can i|where is|when will|can i|is there)\b", re.I)),
]


class KeywordTriager:
    model_version = "keyword-1"

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()

    def triage_batch(self, items: list[TriageInput]) -> list[TriageResult]:
        return [self.triage(i) for i in items]

    def triage(self, item: TriageInput) -> TriageResult:
        text = item.text or ""
        compound = self._vader.polarity_scores(text[:5000])["compound"] if text.strip() else 0.0
        sentiment = "negative" if compound <= -0.05 else "positive" if compound >= 0.05 else "neutral"
        hits = [(name, m.group(0)) for name, rx in _KEYWORDS if (m := rx.search(text))]
        explanation = [f"sentiment {sentiment} (VADER compound {compound:+.2f})"]
        if hits:
            intent, word = hits[0]
            explanation.append(f"intent {intent}: matched '{word}'")
            runner_up = hits[1][0] if len(hits) > 1 else None
            confidence = 0.6 if runner_up else 0.75
        else:
            intent, runner_up, confidence = ("complaint" if compound <= -0.5 else "other"), None, 0.4
            explanation.append(f"intent {intent}: no keyword, from sentiment")
        urgency = "normal"
        if intent in ("legal_risk", "safety_risk"):
            urgency = "critical" if intent == "safety_risk" else "high"
        elif sentiment == "negative" and (item.author_followers >= 10_000 or item.prior_messages >= 2):
            urgency = "high"
        elif intent in ("spam", "praise"):
            urgency = "low"
        return TriageResult(
            sentiment=sentiment, sentiment_score=round(compound, 4), intent=intent,
            intent_confidence=confidence, intent_runner_up=runner_up, urgency=urgency,
            language="und", flags={}, products=[], topics=[], explanation=explanation,
            model_version=self.model_version,
        )
