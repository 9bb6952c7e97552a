"""Who may subscribe to which notification (the same rules as the pages the figures come from)."""

from __future__ import annotations

from onevoice.auth.principal import Principal

# The digest and SLA alerts are report figures: those who read /reports (reports.service.require_reader).
REPORT_READERS = ("admin", "coordinator", "executive", "manager")
DIGEST_ROLES = REPORT_READERS
SLA_ROLES = REPORT_READERS
# Incidents are listed for everyone but partners (/incidents).
INCIDENT_ROLES = ("admin", "coordinator", "executive", "manager", "responder", "viewer", "contributor")
# Alert thresholds are the coordinator's (and the admin's).
RULE_ROLES = ("admin", "coordinator")
ALL_TEAM_ROLES = ("admin", "coordinator", "executive")


def offers(who: Principal) -> dict[str, bool]:
    """Which subscriptions this person may have."""
    return {"weekly_digest": who.role in DIGEST_ROLES, "incident_alerts": who.role in INCIDENT_ROLES,
            "sla_alerts": who.role in SLA_ROLES, "rules": who.role in RULE_ROLES}


def reads_team_figure(role: str, team_ids: frozenset[int] | set[int], team_id: int | None) -> bool:
    """May read an SLA figure of the organization (team_id None) or of one team."""
    if role in ALL_TEAM_ROLES:
        return True
    return role == "manager" and team_id is not None and team_id in team_ids
