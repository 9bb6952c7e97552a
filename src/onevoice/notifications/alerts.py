"""Alerts: an incident opening (or reopening), or SLA attainment (first response or resolution) falling below
the threshold a coordinator set. Subscribers are told in the app (the notifications page and its badge) and, if
they asked, by email; both link to what the alert is about: the incident and its cases, or the report for that
team and period and the cases behind the figure (the reports' own drill-down, reports.links).

An alert is raised once per key (`alerts.key` is unique): `incident:<id>:<reopen count>`, or
`sla:<rule id>:<episode>`. A rule's `firing` flag is turned on by a conditional update (only one node wins
it) and off again when the figure is back at or above the threshold; while it stays below, nothing repeats.
Each figure of each scope is its own rule, so first response and resolution fall and recover independently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from onevoice.auth.models import User, UserTeam
from onevoice.auth.principal import SYSTEM
from onevoice.cases.models import Incident
from onevoice.db import unit_of_work, utcnow
from onevoice.inbox.notify import notify_user
from onevoice.notifications.audience import INCIDENT_ROLES, REPORT_READERS, SLA_ROLES, reads_team_figure
from onevoice.notifications.emails import render
from onevoice.notifications.figures import SLA_FIGURES, percent
from onevoice.notifications.models import Alert, AlertRule, NotificationPreference
from onevoice.notifications.outbox import queue_mail
from onevoice.reports import service as reports
from onevoice.reports.links import cases_path, report_path
from onevoice.settings import Settings
from onevoice.teams.models import Team

log = logging.getLogger(__name__)

# An incident that opened (or came back) longer ago than this when the job first sees it is not announced:
# a new installation does not announce last month's incidents.
INCIDENT_WINDOW = timedelta(hours=24)


def _recipients(session: Session, flag, roles: tuple[str, ...]) -> list[tuple[User, NotificationPreference]]:
    # Rows unpack like tuples (Result.tuples() is deprecated in SQLAlchemy 2.1).
    return [(user, pref) for user, pref in session.execute(
        select(User, NotificationPreference).join(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(flag.is_(True), User.active.is_(True), User.role.in_(roles)).order_by(User.id))]


def raise_alert(session: Session, *, key: str, kind: str, title: str, text: str, public_url: str,
                recipients: list[tuple[User, NotificationPreference]],
                links_for: Callable[[User], list[dict]]) -> Alert | None:
    """Record the alert and tell each recipient, with the links `links_for(user)` gives them (paths on this site;
    absolute from `public_url` in the email), unless an alert with this key exists. None when it did."""
    if session.scalar(select(Alert.id).where(Alert.key == key)) is not None:
        return None
    alert = Alert(key=key, kind=kind, text=text, recipients=len(recipients))
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:  # another node raised it a moment ago
        return None
    base = public_url.rstrip("/")
    for user, pref in recipients:
        links = links_for(user)
        notify_user(session, user.id, None, "alert", "system", text, links)
        if pref.alert_email:
            absolute = [{"label": link["label"], "href": base + link["href"]} for link in links]
            body_text, body_html = render("alert", {"name": user.name, "title": title, "text": text,
                                                    "links": absolute})
            queue_mail(session, key=f"alert:{key}:user:{user.id}", kind="alert", user_id=user.id,
                       to_addr=user.email, subject=f"OneVoice alert: {title}", text=body_text, html=body_html)
    return alert


def incident_links(incident: Incident, role: str, now: datetime) -> list[dict]:
    """The incident's row on /incidents, and its cases: for those who read reports, the reports' list of the
    cases behind the incident (all of them, whatever the period); for the others, the inbox's incidents queue
    filtered to this incident (the cases of it they may open)."""
    row = {"label": "the incident", "href": f"/incidents#incident-{incident.id}"}
    if role in REPORT_READERS:
        # The list holds every case of the incident whatever the period; the period shown starts when it opened,
        # held within what a report may span so that the link of a long-lived incident still opens.
        end = now.date()
        start = min(max(incident.opened_at.date(), end - timedelta(days=reports.MAX_DAYS - 1)), end)
        return [row, {"label": "its cases",
                      "href": cases_path({"start": start, "end": end}, f"incident:{incident.id}")}]
    return [row, {"label": "its cases", "href": f"/inbox?queue=incidents&incident={incident.id}"}]


def incident_alerts(session: Session, now: datetime, public_url: str) -> int:
    since = now - INCIDENT_WINDOW
    incidents = session.scalars(select(Incident).where(
        Incident.status == "open", or_(Incident.opened_at >= since, Incident.last_activity_at >= since))
        .order_by(Incident.id)).all()
    raised = 0
    for incident in incidents:
        key = f"incident:{incident.id}:{incident.reopen_count}"
        if session.scalar(select(Alert.id).where(Alert.key == key)) is not None:
            continue
        if incident.reopen_count and (incident.last_activity_at or incident.opened_at) < since:
            continue
        again = " again" if incident.reopen_count else ""
        title = f"incident{again}: {incident.topic}"[:200]
        text = f"Incident opened{again} on “{incident.topic}”"
        if incident.summary:
            text += f": {incident.summary}"
        recipients = _recipients(session, NotificationPreference.incident_alerts, INCIDENT_ROLES)
        if raise_alert(session, key=key, kind="incident", title=title, text=text[:1000], public_url=public_url,
                       recipients=recipients,
                       links_for=lambda user, incident=incident: incident_links(incident, user.role, now)):
            raised += 1
    return raised


def window(rule: AlertRule, now: datetime) -> tuple[date, date]:
    """The days a rule measures: the last `days` days, today included."""
    return now.date() - timedelta(days=rule.days - 1), now.date()


def sla_links(rule: AlertRule, team_key: str | None, now: datetime) -> list[dict]:
    """The report for the rule's team (the manager view) or the organization over the rule's window, and the
    cases behind the figure: those that missed the SLA or are past their due time."""
    start, end = window(rule, now)
    filters = {"start": start, "end": end, "team": team_key}
    return [{"label": "the report", "href": report_path(filters, view="manager" if team_key else None)},
            {"label": "the cases behind it", "href": cases_path(filters, SLA_FIGURES[rule.metric].drill)}]


def measure(session: Session, rule: AlertRule, now: datetime) -> float | None:
    """The rule's figure now: its SLA attainment (first response or resolution) over the rule's window."""
    team = session.scalar(select(Team.key).where(Team.id == rule.team_id)) if rule.team_id else None
    start, end = window(rule, now)
    scope = reports.make_scope(session, SYSTEM, start, end, team=team)
    # The rule's own figure only: the whole headline would rank every customer (advocacy) once a minute per
    # rule, and the whole service family would read every median and p90 for an attainment.
    name = f"service.{rule.metric}"
    return reports.family(session, scope, "service", {name}).get(name)


def check_rule(session: Session, rule_id: int, now: datetime, public_url: str) -> bool:
    """Measure one rule; raise its alert when the figure has just fallen below the threshold. True if raised."""
    rule = session.get(AlertRule, rule_id)
    if rule is None or not rule.enabled or rule.metric not in SLA_FIGURES:
        return False
    value = measure(session, rule, now)
    rule.last_value, rule.checked_at = value, now
    if value is None:  # no case due yet in the window: nothing to say either way
        return False
    below = value < rule.threshold
    session.flush()
    if below == rule.firing:
        return False
    flipped = session.execute(update(AlertRule).where(AlertRule.id == rule.id, AlertRule.firing.is_(not below))
                              .values(firing=below, changed_at=now,
                                      episode=AlertRule.episode + (1 if below else 0))
                              .execution_options(synchronize_session=False)).rowcount
    session.expire(rule)
    if not flipped or not below:  # another node flipped it first, or the figure recovered (no alert)
        return False
    team_key, team_name = session.execute(select(Team.key, Team.name).where(Team.id == rule.team_id)).one() \
        if rule.team_id else (None, None)
    where = team_name or "the organization"
    figure = SLA_FIGURES[rule.metric]
    title = f"{figure.short} {percent(value)} for {where}"
    text = (f"{figure.label} for {where} over the last {rule.days} days is {percent(value)}, "
            f"below the {percent(rule.threshold)} threshold.")
    members = set(session.scalars(select(UserTeam.user_id).where(UserTeam.team_id == rule.team_id))) \
        if rule.team_id else set()
    recipients = [(u, p) for u, p in _recipients(session, NotificationPreference.sla_alerts, SLA_ROLES)
                  if reads_team_figure(u.role, {rule.team_id} if u.id in members else set(), rule.team_id)]
    links = sla_links(rule, team_key, now)
    return raise_alert(session, key=f"sla:{rule.id}:{rule.episode}", kind="sla", title=title, text=text,
                       public_url=public_url, recipients=recipients, links_for=lambda _user: links) is not None


def check_alerts(factory: sessionmaker[Session], settings: Settings, now: datetime | None = None) -> dict:
    """The scheduler's job: incidents, then every enabled rule (each in its own transaction)."""
    now = now or utcnow()
    out = {"incident": 0, "sla": 0}
    with unit_of_work(factory) as session:
        out["incident"] = incident_alerts(session, now, settings.public_url)
    with factory() as session:
        # In the order the rules were made, so that a person's alerts of one check come in that order (PostgreSQL
        # returns an updated rule's row where it now lies: a flaky order without it).
        rule_ids = list(session.scalars(select(AlertRule.id).where(AlertRule.enabled.is_(True))
                                        .order_by(AlertRule.id)))
    for rule_id in rule_ids:
        try:
            with unit_of_work(factory) as session:
                out["sla"] += check_rule(session, rule_id, now, settings.public_url)
        except Exception:  # noqa: BLE001 - one rule failing must not stop the others
            log.exception("alert rule %s could not be checked", rule_id)
    return out
