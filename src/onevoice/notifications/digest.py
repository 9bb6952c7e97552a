"""The weekly digest: last week's report figures by email to everyone who subscribed and may read them.

Managers get their own teams' figures; admins, coordinators and executives the organization's (the same rule
as /reports, applied by reports.service.make_scope). One email per person and ISO week: its idempotence key
`digest:<year>-W<week>:user:<id>` is unique, so two nodes running the job write it once, and the mail outbox
sends it once (notifications/outbox.py).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.db import unit_of_work, utcnow
from onevoice.notifications.audience import DIGEST_ROLES
from onevoice.notifications.emails import render
from onevoice.notifications.figures import digest_rows
from onevoice.notifications.models import MailMessage, NotificationPreference
from onevoice.notifications.outbox import queue_mail
from onevoice.reports import objectives
from onevoice.reports import service as reports
from onevoice.reports.links import report_path
from onevoice.settings import Settings
from onevoice.teams.models import Team

log = logging.getLogger(__name__)


def digest_week(now: datetime, hour_utc: int) -> tuple[date, date]:
    """The last full week (Monday..Sunday, UTC) whose digest is due at `now`: last week from Monday at
    `hour_utc` on, the week before until then."""
    monday = now.date() - timedelta(days=now.weekday())
    if now.weekday() == 0 and now.hour < hour_utc:
        monday -= timedelta(days=7)
    return monday - timedelta(days=7), monday - timedelta(days=1)


def digest_key(start: date, user_id: int) -> str:
    year, week, _ = start.isocalendar()
    return f"digest:{year}-W{week:02d}:user:{user_id}"


def compose(session: Session, user: User, start: date, end: date, public_url: str) -> tuple[str, str, str]:
    """(subject, text, html) of one person's digest for the week start..end."""
    who = principal_for(session, user)
    scope = reports.make_scope(session, who, start, end)
    data = reports.report(session, who, scope)
    if who.role in reports.ALL_TEAMS:
        audience = "the whole organization"
    else:
        names = session.scalars(select(Team.name).where(Team.id.in_(who.team_ids)).order_by(Team.name)).all()
        audience = ", ".join(names) or "your teams (you are in none)"
    backlog = data["backlog"]
    context = {"name": user.name, "audience": audience, "start": start, "end": end,
               "rows": digest_rows(data["figures"]),
               "backlog_open": backlog.get("open"), "backlog_old": backlog.get("older_than_a_day"),
               "objectives": [objectives.described(o) for o in data.get("objectives") or []],
               "reports_url": public_url.rstrip("/") + report_path({"start": start, "end": end}),
               "settings_url": f"{public_url.rstrip('/')}/me/notifications"}
    text, html = render("digest", context)
    subject = f"OneVoice weekly digest, {start:%d %b} – {end:%d %b %Y}: {audience}"
    return subject, text, html


def subscribers(session: Session) -> list[User]:
    return list(session.scalars(select(User).join(NotificationPreference, NotificationPreference.user_id == User.id)
                                .where(NotificationPreference.weekly_digest.is_(True), User.active.is_(True),
                                       User.role.in_(DIGEST_ROLES)).order_by(User.id)))


def queue_digests(factory: sessionmaker[Session], settings: Settings, now: datetime | None = None) -> int:
    """Write the due week's digest for every subscriber who has none yet. Returns how many were written."""
    now = now or utcnow()
    start, end = digest_week(now, settings.digest_hour_utc)
    with factory() as session:
        people = [(u.id, digest_key(start, u.id)) for u in subscribers(session)]
        done = set(session.scalars(select(MailMessage.key).where(MailMessage.key.in_([k for _, k in people]))))
    written = 0
    for user_id, key in people:
        if key in done:
            continue
        try:
            with unit_of_work(factory) as session:  # one person's digest per transaction: one failure is theirs
                user = session.get(User, user_id)
                subject, text, html = compose(session, user, start, end, settings.public_url)
                written += queue_mail(session, key=key, kind="digest", user_id=user.id, to_addr=user.email,
                                      subject=subject, text=text, html=html)
        except Exception:  # noqa: BLE001 - the others still get theirs; this one is tried at the next run
            log.exception("weekly digest for user %s could not be written", user_id)
    return written
