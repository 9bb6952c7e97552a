"""Which report figures a digest shows, and how each reads (the formulas are docs/metrics.md's)."""

from __future__ import annotations

from typing import NamedTuple

from onevoice.reports.objectives import duration, number


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f} %"


# (figure key in reports.service.report()["figures"], label, format, higher is better)
DIGEST_FIGURES = (
    ("service.cases", "Cases opened", number, None),
    ("service.messages_in", "Messages received", number, None),
    ("service.first_response_bh_median_s", "First response, median (business hours)", duration, False),
    ("service.first_response_p90_s", "First response, p90 (clock)", duration, False),
    ("service.first_response_sla", "First-response SLA attainment", percent, True),
    ("service.resolution_sla", "Resolution SLA attainment", percent, True),
    ("service.reopen_rate", "Reopen rate", percent, False),
    ("reputation.net_sentiment", "Net sentiment", percent, True),
    ("reputation.recovery_rate", "Sentiment recovery", percent, True),
    ("reputation.incidents", "Incidents", number, False),
    ("advocacy.advocate_count", "Advocates", number, True),
    ("advocacy.detractor_count", "Detractors", number, False),
    ("leads.found", "Sales leads found", number, None),
    ("leads.won", "Leads won", number, True),
    ("leads.lost", "Leads lost", number, None),
    ("leads.won_value", "Value of leads won", number, True),
)


def digest_rows(figures: dict) -> list[dict]:
    """One row per digest figure: label, this week, the week before, and the change in words."""
    rows = []
    for key, label, fmt, higher_better in DIGEST_FIGURES:
        f = figures.get(key) or {}
        now, before, change = f.get("now"), f.get("before"), f.get("change")
        trend = ""
        if change:
            trend = "up" if change > 0 else "down"
            if higher_better is not None:
                trend += ", better" if (change > 0) == higher_better else ", worse"
        rows.append({"key": key, "label": label, "now": fmt(now), "before": fmt(before), "trend": trend})
    return rows


class SlaFigure(NamedTuple):
    label: str  # how a sentence names it
    short: str  # in an email's subject
    drill: str  # the cases it counts as missed (reports.service.drill_conditions)


# The figures an SLA alert threshold may watch, by the rule's metric (docs/metrics.md, "SLA attainment").
SLA_FIGURES = {
    "first_response_sla": SlaFigure("First-response SLA attainment", "first-response SLA", "first_response_missed"),
    "resolution_sla": SlaFigure("Resolution SLA attainment", "resolution SLA", "resolution_missed"),
}
