"""People's subscriptions, the coordinator's alert thresholds, and what was sent: the rules the settings page
(/me/notifications) and its tests go through."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.db import utcnow
from onevoice.errors import Forbidden, InvalidInput
from onevoice.notifications.audience import RULE_ROLES, offers
from onevoice.notifications.figures import SLA_FIGURES
from onevoice.notifications.models import Alert, AlertRule, MailMessage, NotificationPreference
from onevoice.notifications.schemas import Offers, SubscriptionsOut, ThresholdOut
from onevoice.teams import service as team_service
from onevoice.teams.models import Team

FLAGS = ("weekly_digest", "incident_alerts", "sla_alerts", "alert_email")


def require_person(who: Principal) -> None:
    if who.user_id is None:
        raise Forbidden("an API token without a person has no notifications: use a token that acts as someone")


def preferences(session: Session, who: Principal) -> SubscriptionsOut:
    """This person's subscriptions (none saved yet: nothing, and alerts by email when they subscribe)."""
    require_person(who)
    row = session.get(NotificationPreference, who.user_id)
    flags = {f: bool(getattr(row, f)) if row else f == "alert_email" for f in FLAGS}
    return SubscriptionsOut(**flags, offers=Offers(**offers(who)))


def save_preferences(session: Session, who: Principal, **flags: bool) -> SubscriptionsOut:
    """Subscribe or unsubscribe (the flags given; the others stay); a subscription this person's role does not
    offer is refused."""
    require_person(who)
    allowed = offers(who)
    for name, on in flags.items():
        if name not in FLAGS:
            raise InvalidInput(f"unknown notification {name[:60]!r}")
        if on and name != "alert_email" and not allowed[name]:
            raise Forbidden(f"the {who.role} role cannot subscribe to {name.replace('_', ' ')}")
    row = session.get(NotificationPreference, who.user_id)
    if row is None:
        row = NotificationPreference(user_id=who.user_id)
        session.add(row)
    for name, on in flags.items():
        setattr(row, name, bool(on))
    row.updated_at = utcnow()
    session.flush()
    return preferences(session, who)


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 2)


def list_rules(session: Session) -> list[ThresholdOut]:
    """Every threshold, the organization's first, then by team and figure."""
    teams = {i: (k, n) for i, k, n in session.execute(select(Team.id, Team.key, Team.name))}
    rules = session.scalars(select(AlertRule).order_by(AlertRule.team_id.is_not(None), AlertRule.team_id,
                                                       AlertRule.metric, AlertRule.id)).all()
    out = []
    for r in rules:
        key, name = teams.get(r.team_id, (None, None))
        out.append(ThresholdOut(id=r.id, metric=r.metric, figure=SLA_FIGURES[r.metric].label, team=key,
                                team_name=name, threshold_percent=_percent(r.threshold), days=r.days,
                                enabled=r.enabled, firing=r.firing, last_value_percent=_percent(r.last_value),
                                checked_at=r.checked_at, set_by=r.set_by))
    return out


def require_rule_setter(who: Principal) -> None:
    if who.role not in RULE_ROLES:
        raise Forbidden("alert thresholds are set by a coordinator or an admin")


def set_rule(session: Session, who: Principal, team: str | None, threshold_percent: float, days: int,
             enabled: bool = True, metric: str = "first_response_sla") -> ThresholdOut:
    """The coordinator's threshold on SLA attainment (first response or resolution: `metric`), for the
    organization or one team; one per figure and scope, set again to change it. A changed rule starts afresh: it
    alerts if the figure is below the new threshold at the next check."""
    require_rule_setter(who)
    if metric not in SLA_FIGURES:
        raise InvalidInput(f"a threshold is on one of: {', '.join(SLA_FIGURES)}")
    if not 0 < threshold_percent <= 100:
        raise InvalidInput("the threshold is a percentage above 0 and at most 100")
    if not 1 <= days <= 90:
        raise InvalidInput("the window is 1 to 90 days")
    team_id = None
    if team:
        team_id = team_service.team_id(session, team)
        if team_id is None:
            raise InvalidInput(f"unknown team {team[:60]!r}")
    scope_key = f"team:{team_id}" if team_id else "org"
    rule = session.scalar(select(AlertRule).where(AlertRule.metric == metric, AlertRule.scope_key == scope_key))
    if rule is None:
        rule = AlertRule(metric=metric, scope_key=scope_key, team_id=team_id, episode=0, firing=False)
        session.add(rule)
    changed = rule.threshold != threshold_percent / 100 or rule.days != days or rule.enabled != enabled
    rule.threshold, rule.days, rule.enabled, rule.set_by = threshold_percent / 100, days, enabled, who.label
    if changed:
        rule.firing, rule.changed_at = False, utcnow()
    session.flush()
    return next(r for r in list_rules(session) if r.id == rule.id)


def recent_alerts(session: Session, limit: int = 20) -> list[dict]:
    return [{"kind": a.kind, "text": a.text, "at": a.created_at, "recipients": a.recipients}
            for a in session.scalars(select(Alert).order_by(Alert.id.desc()).limit(limit))]


def my_mail(session: Session, who: Principal, limit: int = 10) -> list[dict]:
    """This person's latest emails and whether they went out."""
    rows = session.scalars(select(MailMessage).where(MailMessage.user_id == (who.user_id or -1))
                           .order_by(MailMessage.id.desc()).limit(limit))
    return [{"kind": m.kind, "subject": m.subject, "status": m.status, "attempts": m.attempts,
             "created_at": m.created_at, "sent_at": m.sent_at} for m in rows]


def mail_health(session: Session) -> dict:
    """Emails by status (for coordinators and admins: a failing SMTP server shows here)."""
    return dict(session.execute(select(MailMessage.status, func.count()).group_by(MailMessage.status)).all())
