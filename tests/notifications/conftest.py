"""What the notifications tests share: a real SMTP server, subscribing people, what they were told, and two
nodes running a job at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from onevoice.auth.models import User
from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.inbox.models import Notification
from onevoice.notifications import service
from onevoice.notifications.models import MailMessage
from tests.connectors.mailserver import SMTPServer
from tests.governance.conftest import api_for, browser_for, gov_app, org, runtime  # noqa: F401 - shared fixtures
from tests.reports.conftest import pipeline  # noqa: F401 - shared fixture

SMTP_USER, SMTP_PASSWORD = "onevoice", "mail-secret"
SMTP_PASSWORD_SECRET = SecretStr(SMTP_PASSWORD)


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free localhost port, with AUTH."""
    with SMTPServer(SMTP_USER, SMTP_PASSWORD) as server:
        yield server


def mail_settings(settings, port: int):
    """The test settings pointed at the local SMTP server (plain connection on loopback, with a login)."""
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none",
                                       "smtp_user": SMTP_USER, "smtp_password": SMTP_PASSWORD_SECRET,
                                       "smtp_from": "OneVoice <reports@acme.test>",
                                       "public_url": "https://onevoice.acme.test"})


@pytest.fixture
def subscribe(session_factory, org) -> Callable[..., None]:  # noqa: F811 - org is the shared fixture
    """subscribe(lee={"sla_alerts": True}, ...): each person's subscriptions, saved as the page saves them."""

    def save(**who: dict) -> None:
        with unit_of_work(session_factory) as s:
            for name, flags in who.items():
                service.save_preferences(s, org[name], **flags)

    return save


@pytest.fixture
def told(session_factory) -> Callable[[str], list[str]]:
    """told("sam@acme.test"): the alerts this person has in the app, oldest first."""

    def alerts_of(email: str) -> list[str]:
        with session_factory() as s:
            user_id = s.scalar(select(User.id).where(User.email == email))
            return list(s.scalars(select(Notification.text).where(Notification.user_id == user_id,
                                                                  Notification.kind == "alert")
                                  .order_by(Notification.id)))

    return alerts_of


@pytest.fixture
def alert_links(session_factory) -> Callable[[str], list[list[dict]]]:
    """alert_links("sam@acme.test"): the links of each alert this person has in the app, oldest first."""

    def links_of(email: str) -> list[list[dict]]:
        with session_factory() as s:
            user_id = s.scalar(select(User.id).where(User.email == email))
            return [n or [] for n in s.scalars(select(Notification.links).where(
                Notification.user_id == user_id, Notification.kind == "alert").order_by(Notification.id))]

    return links_of


@pytest.fixture
def mailed(session_factory) -> Callable[[], list[tuple[str, str]]]:
    """mailed(): (to, subject) of every alert email written, sorted."""

    def alert_mail() -> list[tuple[str, str]]:
        with session_factory() as s:
            return sorted((to, subject) for to, subject in s.execute(
                select(MailMessage.to_addr, MailMessage.subject).where(MailMessage.kind == "alert")))

    return alert_mail


@pytest.fixture
def two_nodes(settings) -> Callable[[Callable], list]:
    """two_nodes(job): run job(session factory) on two nodes at once (two engines, two threads started together
    by a barrier); their results, after checking neither raised."""

    def run(job: Callable) -> list:
        engines = [make_engine(settings.database_url) for _ in range(2)]
        start, results, errors = threading.Barrier(2), [], []

        def node(engine) -> None:
            try:
                start.wait(timeout=30)
                results.append(job(make_sessionmaker(engine), start))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=node, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for e in engines:
            e.dispose()
        assert not errors, errors
        return results

    return run
