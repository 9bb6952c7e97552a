"""The default routing used until a playbook is loaded: who leads, by intent."""

from __future__ import annotations

from datetime import timedelta

from onevoice.routing.types import Decision, RouteInput

LEAD_BY_INTENT = {
    "complaint": "support", "question": "support", "suggestion": "product", "praise": "marketing",
    "sales_lead": "sales", "partnership": "sales", "job_inquiry": "hr", "press_inquiry": "pr",
    "legal_risk": "support", "safety_risk": "support", "spam": None, "other": "support",
}
FIRST_RESPONSE = {"urgent": 15, "high": 60, "normal": 240, "low": 1440}


class SimpleRouter:
    version = "simple-1"

    def route(self, item: RouteInput) -> Decision:
        t = item.triage
        d = Decision(lead_team=LEAD_BY_INTENT.get(t.intent, "support"), playbook_version=self.version)
        d.rules.append({"rule": f"intent-{t.intent}", "why": f"intent is {t.intent}"})
        if t.intent == "spam":
            d.close_as_spam, d.priority = True, "low"
        if t.intent == "legal_risk":
            d.collaborators.append("legal")
            d.requires_approval = True
            d.priority = "high"
            d.rules.append({"rule": "legal-review", "why": "legal risk: legal collaborates and approves replies"})
        if t.intent == "safety_risk":
            d.collaborators.append("product")
            d.priority = "urgent"
        if t.sentiment == "negative" and item.author_followers >= 10_000:
            d.collaborators.append("pr")
            d.priority = "high" if d.priority in ("low", "normal") else d.priority
            d.rules.append({"rule": "high-reach-negative",
                            "why": f"negative post by an author with {item.author_followers} followers"})
        d.sla_policy = "default"
        d.sla_due_at = item.created_at + timedelta(minutes=FIRST_RESPONSE[d.priority])
        return d
