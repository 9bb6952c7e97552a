"""The figures a team may set itself a target on: how each reads, and the unit people type a target in.

Targets are stored in the figure's own unit (seconds, a share from 0 to 1, a count), as the JSON report
gives them; people type times in hours and shares in percent, so the form converts both ways here and
every view (the page, the CSV, the weekly digest) names and formats a figure the same way.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from onevoice.errors import InvalidInput


class Figure(NamedTuple):
    label: str
    kind: str  # "dur": seconds; "pct": a share (0..1, net sentiment -1..1); "num": a count or a ratio


FIGURES: dict[str, Figure] = {
    "service.first_response_bh_median_s": Figure("First response, median (business hours)", "dur"),
    "service.first_response_sla": Figure("First response SLA met", "pct"),
    "service.resolution_sla": Figure("Resolution SLA met", "pct"),
    "service.reopen_rate": Figure("Reopen rate", "pct"),
    "service.resolution_bh_median_s": Figure("Resolution, median (business hours)", "dur"),
    "reputation.recovery_rate": Figure("Negative cases recovered", "pct"),
    "reputation.net_sentiment": Figure("Net sentiment", "pct"),
    "reputation.negative_vs_usual": Figure("Negative per day vs usual (×)", "num"),
    "advocacy.advocate_count": Figure("Advocates", "num"),
    "advocacy.turned_advocate": Figure("Turned advocate", "num"),
    "leads.found": Figure("Sales leads found", "num"),
    "leads.won_value": Figure("Value of leads won", "num"),
}
UNITS = {"dur": "hours", "pct": "%", "num": ""}


def figure(metric: str) -> Figure:
    found = FIGURES.get(metric)
    if found is None:
        raise InvalidInput(f"objectives are set on one of: {', '.join(FIGURES)}")
    return found


def check(metric: str, target: float) -> float:
    """The stored target, refused with a reason when it cannot be met or read (NaN, a share over 100 %)."""
    kind = figure(metric).kind
    target = float(target)
    if not math.isfinite(target):
        raise InvalidInput("the target is a finite number")
    low = -1.0 if metric == "reputation.net_sentiment" else 0.0
    if kind == "pct" and not low <= target <= 1.0:
        raise InvalidInput(f"a share is a target between {low:.0%} and 100%")
    if kind in ("dur", "num") and target < 0:
        raise InvalidInput("the target is not negative")
    return target


def from_form(metric: str, typed: float) -> float:
    """What a person typed (hours, percent, a count) in the figure's stored unit."""
    kind = figure(metric).kind
    return typed * 3600 if kind == "dur" else typed / 100 if kind == "pct" else typed


def text(metric: str, value: float | None) -> str:
    """A figure's value as people read it: 24 min, 3.5 h, 86.7 %, 0.78."""
    if value is None:
        return "–"
    kind = FIGURES[metric].kind if metric in FIGURES else "num"
    if kind == "dur":
        return duration(value)
    if kind == "pct":
        return f"{value * 100:.1f} %"
    return number(value)


def duration(seconds: float | None) -> str:
    """A duration as the report pages show it (reports/_macros.html `dur`): minutes under an hour, hours under
    two days (a 30-hour first response reads as 30 h, not 1.3 d), days after; the digest reads the same."""
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{max(round(seconds / 60), 0)} min"
    return f"{seconds / 3600:.1f} h" if seconds < 172800 else f"{seconds / 86400:.1f} d"


def number(value: float | None) -> str:
    """A count or an amount: 1,250 or 1,250.50 (the digest's figures read the same)."""
    if value is None:
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def described(row: dict) -> dict:
    """A progress row (service.progress) with its label, target and value in words, for pages and mail."""
    comparator = "at most" if row["comparator"] == "<=" else "at least"
    return {**row, "label": FIGURES[row["metric"]].label if row["metric"] in FIGURES else row["metric"],
            "target_text": f"{comparator} {text(row['metric'], row['target'])}",
            "value_text": text(row["metric"], row["value"])}
