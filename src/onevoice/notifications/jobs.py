"""The scheduler's three jobs, registered at composition (cli/serving.py): alerts, digests, mail delivery.
Each is safe on any number of nodes at once (idempotence keys, conditional claims)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from onevoice.notifications.alerts import check_alerts
from onevoice.notifications.digest import queue_digests
from onevoice.notifications.mailer import Transport, transport_from
from onevoice.notifications.outbox import deliver_mail
from onevoice.settings import Settings

ALERTS_EVERY = 60.0
DIGEST_EVERY = 600.0
MAIL_EVERY = 15.0


def alerts_job(factory: sessionmaker[Session], settings: Settings) -> dict:
    return check_alerts(factory, settings)


def digest_job(factory: sessionmaker[Session], settings: Settings) -> int:
    return queue_digests(factory, settings)


def mail_job(factory: sessionmaker[Session], settings: Settings, transport: Transport | None = None) -> dict:
    return deliver_mail(factory, transport or transport_from(settings), settings.smtp_from)
