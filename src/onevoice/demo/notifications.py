"""The demo's subscriptions: Support's manager and the executive get the weekly digest, the coordinator incident
and SLA alerts, and the organization has an SLA threshold, so /me/notifications and the alerts are alive on
first start (mail goes to .eml files under data/mail unless ONEVOICE_SMTP_HOST is set)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.notifications import service
from onevoice.notifications.models import AlertRule, NotificationPreference

SUBSCRIPTIONS = {"manager": {"weekly_digest": True, "sla_alerts": True},
                 "exec": {"weekly_digest": True},
                 "lead": {"weekly_digest": True, "incident_alerts": True, "sla_alerts": True}}


def seed_notifications(session: Session, domain: str) -> None:
    """Safe on every start: a person who already has preferences keeps theirs; a rule set is kept."""
    for name, flags in SUBSCRIPTIONS.items():
        user = session.scalar(select(User).where(User.email == f"{name}@{domain}"))
        if user is None or session.get(NotificationPreference, user.id) is not None:
            continue
        service.save_preferences(session, principal_for(session, user), **flags)
    lead = session.scalar(select(User).where(User.email == f"lead@{domain}"))
    if lead is not None and session.scalar(select(AlertRule.id)) is None:
        service.set_rule(session, principal_for(session, lead), None, 80, 7)
