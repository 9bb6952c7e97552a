"""The scheduler runs the three notification jobs; without an SMTP host, mail is written as .eml files."""

from __future__ import annotations

from email import message_from_bytes, policy

from sqlalchemy import select

from onevoice.db import unit_of_work
from onevoice.notifications.jobs import mail_job
from onevoice.notifications.models import MailMessage
from onevoice.notifications.outbox import queue_mail


def test_the_embedded_scheduler_runs_alerts_digests_and_mail(settings):
    from onevoice.cli.serving import _scheduler
    from onevoice.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        names = {j.name: j.every for j in _scheduler(runtime, poll=False).jobs}
    finally:
        runtime.dispose()
    assert names.items() >= {"alerts": 60.0, "weekly-digest": 600.0, "mail": 15.0}.items()


def test_without_an_smtp_host_mail_goes_to_files(settings, session_factory):
    assert settings.smtp_host is None
    with unit_of_work(session_factory) as s:
        assert queue_mail(s, key="digest:2026-W47:user:1", kind="digest", user_id=None, to_addr="a@acme.test",
                          subject="Hello", text="Plain body", html="<p>HTML body</p>")
        assert not queue_mail(s, key="digest:2026-W47:user:1", kind="digest", user_id=None, to_addr="a@acme.test",
                              subject="Again", text="x", html="x")  # the same key: written once
    assert mail_job(session_factory, settings) == {"sent": 1, "retry": 0, "failed": 0}
    files = list((settings.data_dir / "mail").glob("*.eml"))
    assert len(files) == 1
    mail = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert mail["To"] == "a@acme.test" and mail["Subject"] == "Hello" and mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_body(preferencelist=("plain",)).get_content().strip() == "Plain body"
    assert "<p>HTML body</p>" in mail.get_body(preferencelist=("html",)).get_content()
    with session_factory() as s:
        assert s.scalar(select(MailMessage.status)) == "sent"


def test_the_settings_page_claims_only_its_own_paths(gov_app):
    """`/me/` is a page prefix (security headers, HTML errors); `/metrics` is not a page."""
    from fastapi.testclient import TestClient

    assert "/me/" in gov_app.state.page_prefixes and "/me" not in gov_app.state.page_prefixes
    r = TestClient(gov_app).get("/metrics")
    assert r.status_code in (401, 403) and "content-security-policy" not in r.headers
    assert r.headers["content-type"].startswith("application/json")
