"""Urgency from the content, the risk, the author's reach and repetition, with the reasons."""

from __future__ import annotations

LEVELS = ("low", "normal", "high", "critical")
BASE = {
    "safety_risk": "critical", "legal_risk": "high", "complaint": "normal", "question": "normal",
    "press_inquiry": "normal", "sales_lead": "normal", "job_inquiry": "normal", "partnership": "normal",
    "suggestion": "low", "praise": "low", "spam": "low", "other": "low",
}
# Topics where every hour costs the customer or the organization more, whatever the intent reads: money leaving
# an account, personal data out (a breach may have to be reported within 72 hours). Stop 32: a fraud report put
# as a question was "normal" in triage and high only through the default playbook's rule.
URGENT_TOPICS = {"fraud": "money may be leaving the account", "data_breach": "personal data may be out"}
HIGH_REACH = 10_000
VERY_HIGH_REACH = 100_000


_RANK = {name: i for i, name in enumerate(LEVELS)}


def urgency_for(intent: str, sentiment: str, score: float, flags: dict, anger: float,
                followers: int, prior_messages: int, topics: list[str] | tuple[str, ...] = ()) -> tuple[str, list[str]]:
    # Each rule raises the level (never lowers it) and says why when it does.
    base = BASE.get(intent, "normal")
    level = _RANK[base]
    reasons = [f"{intent} starts at {base}"]
    if flags.get("threat") and level < 3:
        level = 3
        reasons.append("a threat")
    if level < 2 and intent != "spam":
        urgent = next((t for t in topics if t in URGENT_TOPICS), None)
        if urgent:
            level = 2
            reasons.append(f"topic {urgent}: {URGENT_TOPICS[urgent]}")
    if flags.get("crisis") and sentiment == "negative" and level < 2:
        level = 2
        reasons.append("crisis signal")
    if sentiment == "negative" and intent != "spam":
        if score <= -0.6 and level < 1:
            level = 1
            reasons.append("strongly negative")
        if followers >= VERY_HIGH_REACH:
            target = 3 if score <= -0.6 else 2
            if target > level:
                level = target
                reasons.append(f"negative, author has {followers:,} followers")
        elif followers >= HIGH_REACH and level < 2:
            level = 2
            reasons.append(f"negative, author has {followers:,} followers")
        if prior_messages >= 2 and level < 2:
            level = 2
            reasons.append(f"negative and the customer wrote {prior_messages} times before")
        if anger >= 0.6 and score <= -0.4 and level < 2:
            level = 2
            reasons.append(f"angry ({anger:.0%})")
    return LEVELS[level], reasons
