"""The weekly digest against a real SMTP server (aiosmtpd on localhost): it arrives with the right figures as
plain text and HTML, a failing server is logged and retried without losing it, two nodes send it once."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from onevoice.auth.models import User
from onevoice.cases.models import Case
from onevoice.cases.outcome import set_outcome
from onevoice.db import unit_of_work, utcnow
from onevoice.errors import Forbidden
from onevoice.notifications import service
from onevoice.notifications.digest import digest_week, queue_digests
from onevoice.notifications.jobs import mail_job
from onevoice.notifications.mailer import SmtpTransport
from onevoice.notifications.models import MailMessage
from onevoice.notifications.outbox import MAX_ATTEMPTS, deliver_mail
from onevoice.reports.upkeep import upkeep_job
from onevoice.teams.models import Team
from tests.factories import message
from tests.notifications.conftest import mail_settings

pytestmark = pytest.mark.both_databases
# tests.factories.BASE_TIME is Friday 20 November 2026: its ISO week (47) is Monday 16 to Sunday 22 November,
# whose digest is due on Monday 23 November from 07:00 UTC.
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_the_week_a_digest_covers():
    assert digest_week(MONDAY, 7) == (date(2026, 11, 16), date(2026, 11, 22))
    assert digest_week(MONDAY.replace(hour=6), 7) == (date(2026, 11, 9), date(2026, 11, 15))  # not yet due
    assert digest_week(datetime(2026, 11, 26, 1, 0, tzinfo=UTC), 7) == (date(2026, 11, 16), date(2026, 11, 22))
    assert digest_week(datetime(2026, 11, 22, 23, 59, tzinfo=UTC), 7) == (date(2026, 11, 9), date(2026, 11, 15))


@pytest.fixture
def week(session_factory, pipeline, org, subscribe):
    """Three cases on Friday 20 November: a complaint, a question, a sales lead won for 1,250.50 EUR."""
    pipeline(message(channel="xcom", author="ann", text="my order never arrived", minutes=10),
             message(channel="xcom", author="bob", text="is the shop open on sunday?", minutes=20),
             message(channel="xcom", author="cy", text="what is the pricing for 40 seats?", minutes=30))
    with unit_of_work(session_factory) as s:
        lead = s.scalar(select(Case.id).where(Case.intent == "sales_lead"))
        set_outcome(s, org["lee"], lead, "won", "1250.50", "EUR", org_currency="EUR")
        support = s.scalar(select(Team.id).where(Team.key == "support"))
        support_cases = s.scalar(select(func.count(Case.id)).where(Case.lead_team_id == support))
    subscribe(lee={"weekly_digest": True}, mia={"weekly_digest": True}, eve={"weekly_digest": True})
    upkeep_job(session_factory)
    return {"support_cases": support_cases}


def received(smtp) -> dict[str, object]:
    """To address -> the parsed message, for every message the server accepted."""
    out = {}
    for _, rcpts, data in smtp.sink.received:
        for rcpt in rcpts:
            assert rcpt not in out, f"{rcpt} got two messages"
            out[rcpt] = message_from_bytes(data, policy=policy.default)
    return out


def test_the_digest_arrives_with_the_figures_in_text_and_html(settings, session_factory, week, smtp):
    conf = mail_settings(settings, smtp.port)
    assert queue_digests(session_factory, conf, now=MONDAY) == 3
    assert mail_job(session_factory, conf) == {"sent": 3, "retry": 0, "failed": 0}
    mails = received(smtp)
    assert set(mails) == {"lee@acme.test", "mia@acme.test", "eve@acme.test"}
    lee = mails["lee@acme.test"]
    assert lee["From"] == "OneVoice <reports@acme.test>" and "16 Nov – 22 Nov 2026" in lee["Subject"]
    assert lee.get_content_type() == "multipart/alternative"
    text = lee.get_body(preferencelist=("plain",)).get_content()
    html = lee.get_body(preferencelist=("html",)).get_content()
    # The organization's week: three cases, three messages, one lead won for 1,250.50; nothing the week before.
    assert "Cases opened: 3 (week before: 0; up)" in text
    assert "Messages received: 3 (week before: 0; up)" in text
    assert "Leads won: 1 (week before: 0; up, better)" in text
    assert "Value of leads won: 1,250.50 (week before: 0; up, better)" in text
    assert "https://onevoice.acme.test/reports?start=2026-11-16&end=2026-11-22" in text
    assert '<tr data-figure="service.cases"><th scope="row"' in html
    assert ">1,250.50</td>" in html and "the whole organization" in html
    # Mia manages Support: her teams' cases only.
    mia = mails["mia@acme.test"].get_body(preferencelist=("plain",)).get_content()
    assert f"Cases opened: {week['support_cases']} (week before: 0" in mia and "for Customer Support" in mia
    assert week["support_cases"] < 3
    # Run again (the next scheduler tick, or another node): nothing new is written or sent.
    assert queue_digests(session_factory, conf, now=MONDAY + timedelta(hours=1)) == 0
    assert mail_job(session_factory, conf) == {"sent": 0, "retry": 0, "failed": 0}
    assert len(smtp.sink.received) == 3


def test_markup_in_names_arrives_as_text(settings, session_factory, week, smtp):
    with unit_of_work(session_factory) as s:
        s.scalar(select(Team).where(Team.key == "support")).name = "<script>alert(1)</script>Support"
        s.scalar(select(User).where(User.email == "mia@acme.test")).name = "Mia <b>Manager</b>"
    conf = mail_settings(settings, smtp.port)
    queue_digests(session_factory, conf, now=MONDAY)
    mail_job(session_factory, conf)
    html = received(smtp)["mia@acme.test"].get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;Support" in html
    assert "Mia &lt;b&gt;Manager&lt;/b&gt;" in html


def test_an_smtp_failure_is_logged_and_retried_without_losing_the_digest(settings, session_factory, week, smtp,
                                                                         caplog):
    conf = mail_settings(settings, smtp.port)
    queue_digests(session_factory, conf, now=MONDAY)
    smtp.sink.reject_with = "451 4.3.0 Mailbox temporarily unavailable"
    now = utcnow()
    with caplog.at_level(logging.WARNING, logger="onevoice.notifications.outbox"):
        assert deliver_mail(session_factory, SmtpTransport(conf), conf.smtp_from, now=now) == \
            {"sent": 0, "retry": 3, "failed": 0}
    assert [r for r in caplog.records if "failed (try 1), retrying in 1 min" in r.getMessage()
            and "451" in r.getMessage()]
    with session_factory() as s:
        rows = s.scalars(select(MailMessage)).all()
        assert {(m.status, m.attempts) for m in rows} == {("pending", 1)}
        assert all(m.next_at == now + timedelta(minutes=1) and "451" in m.last_error for m in rows)
    # Not before its time, even with the server back...
    smtp.sink.reject_with = None
    assert deliver_mail(session_factory, SmtpTransport(conf), conf.smtp_from, now=now)["sent"] == 0
    # ...and the server down altogether (nothing listening) is a failure like any other.
    down = conf.model_copy(update={"smtp_port": _closed_port()})
    later = now + timedelta(minutes=2)
    assert deliver_mail(session_factory, SmtpTransport(down), conf.smtp_from, now=later)["retry"] == 3
    with session_factory() as s:
        assert {m.attempts for m in s.scalars(select(MailMessage))} == {2}
    # Back up: each digest goes out once, with its figures.
    assert deliver_mail(session_factory, SmtpTransport(conf), conf.smtp_from, now=later + timedelta(minutes=5)) \
        == {"sent": 3, "retry": 0, "failed": 0}
    assert "Cases opened: 3" in received(smtp)["lee@acme.test"].get_body(preferencelist=("plain",)).get_content()
    with session_factory() as s:
        assert {(m.status, m.attempts, m.last_error) for m in s.scalars(select(MailMessage))} == {("sent", 3, None)}


def test_a_digest_that_never_goes_through_is_kept_as_failed(settings, session_factory, week, smtp, caplog):
    conf = mail_settings(settings, smtp.port)
    queue_digests(session_factory, conf, now=MONDAY)
    smtp.sink.reject_with = "554 5.7.1 Rejected"
    now = utcnow()
    with caplog.at_level(logging.ERROR, logger="onevoice.notifications.outbox"):
        for _ in range(MAX_ATTEMPTS):
            deliver_mail(session_factory, SmtpTransport(conf), conf.smtp_from, now=now)
            now += timedelta(hours=2)
    assert [r for r in caplog.records if r.levelno == logging.ERROR and "kept as failed" in r.getMessage()]
    with session_factory() as s:
        rows = s.scalars(select(MailMessage)).all()
        assert {(m.status, m.attempts) for m in rows} == {("failed", MAX_ATTEMPTS)}
        assert all("Cases opened" in m.text_body for m in rows)  # the digest itself is still there
    assert smtp.sink.received == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_nodes_send_one_digest_per_person_and_week(settings, session_factory, week, smtp, two_nodes):
    """Two nodes (two engines, two threads) run the digest and the mail jobs at the same moment, twice."""
    conf = mail_settings(settings, smtp.port)

    def node(factory, start) -> None:
        for round_ in range(2):
            if round_:
                start.wait(timeout=30)
            queue_digests(factory, conf, now=MONDAY)
            deliver_mail(factory, SmtpTransport(conf), conf.smtp_from)

    two_nodes(node)
    assert sorted(r for _, rcpts, _ in smtp.sink.received for r in rcpts) == \
        ["eve@acme.test", "lee@acme.test", "mia@acme.test"]
    with session_factory() as s:
        assert s.scalar(select(func.count(MailMessage.id))) == 3


def test_who_may_subscribe_to_the_digest(session_factory, org):
    with unit_of_work(session_factory) as s:
        with pytest.raises(Forbidden):
            service.save_preferences(s, org["sam"], weekly_digest=True)  # a responder reads no report
        assert service.save_preferences(s, org["sam"], incident_alerts=True).incident_alerts is True
        with pytest.raises(Forbidden):
            service.save_preferences(s, org["pia"], incident_alerts=True)  # partners see no incidents
        assert service.save_preferences(s, org["mia"], weekly_digest=True, sla_alerts=True).weekly_digest


def test_the_digest_names_objectives_and_writes_their_targets_as_people_read_them(settings, session_factory, week,
                                                                                 smtp, org):
    """Objectives are stored in seconds and shares; the digest says what they are, in hours, minutes and percent."""
    from onevoice.reports import service as reports

    with unit_of_work(session_factory) as s:
        reports.set_objective(s, org["lee"], None, "leads.won_value", ">=", 1000)
        reports.set_objective(s, org["lee"], None, "service.first_response_bh_median_s", "<=", 5400)
        reports.set_objective(s, org["lee"], None, "service.reopen_rate", "<=", 0.05)
    conf = mail_settings(settings, smtp.port)
    queue_digests(session_factory, conf, now=MONDAY)
    mail_job(session_factory, conf)
    lee = received(smtp)["lee@acme.test"]
    text = lee.get_body(preferencelist=("plain",)).get_content()
    html = lee.get_body(preferencelist=("html",)).get_content()
    assert "- Value of leads won, at least 1,000: 1,250.50 (on target)" in text
    assert "- First response, median (business hours), at most 1.5 h: – (no figure yet)" in text
    assert "- Reopen rate, at most 5.0 %: – (no figure yet)" in text  # nothing resolved that week
    assert "service.first_response_bh_median_s" not in text
    assert "Value of leads won, at least 1,000: 1,250.50 (on target)" in html


def test_the_digest_reads_durations_as_the_report_pages_do():
    from onevoice.notifications.figures import DIGEST_FIGURES
    from onevoice.reports.objectives import text
    fmt = dict((key, f) for key, _label, f, _better in DIGEST_FIGURES)["service.first_response_bh_median_s"]
    # minutes under an hour, hours under two days, days after: the pages' `dur` and the objectives' text
    assert [fmt(s) for s in (90, 30 * 3600, 50 * 3600, None)] == ["2 min", "30.0 h", "2.1 d", "–"]
    assert fmt(30 * 3600) == text("service.first_response_bh_median_s", 30 * 3600)
