"""Urgency from the content, the risk, the author's reach and repetition, with the reasons."""

from __future__ import annotations

LEVELS = ("low", "normal", "high", "critical")
BASE = {
    "safety_risk": "critical", "legal_risk": "high", "complaint": "normal", "question": "normal",
    "press_inquiry": "normal", "sales_lead": "normal", "job_inquiry": "normal", "partnership": "normal",
    "suggestion": "low", "praise": "low", "spam": "low", "other": "low",
}
HIGH_REACH = 10_000
VERY_HIGH_REACH = 100_000


def urgency_for(intent: str, sentiment: str, score: float, flags: dict, anger: float,
                followers: int, prior_messages: int) -> tuple[str, list[str]]:
    level = LEVELS.index(BASE.get(intent, "normal"))
    reasons = [f"{intent} starts at {LEVELS[level]}"]

    def at_least(target: str, why: str) -> None:
        nonlocal level
        if LEVELS.index(target) > level:
            level = LEVELS.index(target)
            reasons.append(why)

    if flags.get("threat"):
        at_least("critical", "a threat")
    if flags.get("crisis") and sentiment == "negative":
        at_least("high", "crisis signal")
    if sentiment == "negative" and intent != "spam":
        if score <= -0.6:
            at_least("normal", "strongly negative")
        if followers >= VERY_HIGH_REACH:
            at_least("critical" if score <= -0.6 else "high", f"negative, author has {followers:,} followers")
        elif followers >= HIGH_REACH:
            at_least("high", f"negative, author has {followers:,} followers")
        if prior_messages >= 2:
            at_least("high", f"negative and the customer wrote {prior_messages} times before")
        if anger >= 0.6 and score <= -0.4:
            at_least("high", f"angry ({anger:.0%})")
    return LEVELS[level], reasons
