"""The demo's objectives: each group measured on what it exists for (Support on speed, PR on negative volume,
Marketing on advocates, Sales on leads, the organization on sentiment), so /reports shows progress on first
start, some on target and some not."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.cases.models import Case
from onevoice.reports import service
from onevoice.reports.models import Objective

# (team key or None for the organization, figure, comparator, target in the figure's stored unit)
OBJECTIVES = (
    ("support", "service.first_response_bh_median_s", "<=", 3600),
    ("support", "service.resolution_sla", ">=", 0.95),
    ("pr", "reputation.negative_vs_usual", "<=", 1.0),
    ("marketing", "advocacy.turned_advocate", ">=", 3),
    ("sales", "leads.found", ">=", 40),
    (None, "reputation.net_sentiment", ">=", 0.0),
)


def seed_objectives(session: Session, domain: str) -> None:
    """First start only (no case yet, as for the history): objectives removed later stay removed."""
    lead = session.scalar(select(User).where(User.email == f"lead@{domain}"))
    if lead is None or session.scalar(select(Case.id).limit(1)) or session.scalar(select(Objective.id).limit(1)):
        return
    who = principal_for(session, lead)
    for team, metric, comparator, target in OBJECTIVES:
        service.set_objective(session, who, team, metric, comparator, target)
