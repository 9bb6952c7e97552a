"""The scheduler runs the three notification jobs; without an SMTP host, mail is written as .eml files."""

from __future__ import annotations

import socket
import ssl
import subprocess
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from onevoice.cli.serving import _scheduler
from onevoice.db import unit_of_work
from onevoice.notifications.jobs import mail_job
from onevoice.notifications.mailer import SmtpTransport, build_message
from onevoice.notifications.models import MailMessage
from onevoice.notifications.outbox import queue_mail
from onevoice.runtime import build_runtime
from tests.connectors.mailserver import _Sink


def test_the_embedded_scheduler_runs_alerts_digests_and_mail(settings):
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
    assert "/me/" in gov_app.state.page_prefixes and "/me" not in gov_app.state.page_prefixes
    r = TestClient(gov_app).get("/metrics")
    assert r.status_code in (401, 403) and "content-security-policy" not in r.headers
    assert r.headers["content-type"].startswith("application/json")


def _certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 (the test's private CA and the server's certificate at once)."""
    cert, key = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_mail_goes_over_tls_and_the_certificate_is_checked(settings, tmp_path, mode):
    """STARTTLS (587) and TLS from the start (465) against aiosmtpd with a certificate from a private CA: sent
    when that CA is trusted (ONEVOICE_SMTP_CA_FILE), refused when it is not."""
    cert, key = _certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(str(cert), str(key))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = _Sink()
    extra = {"tls_context": server_tls, "require_starttls": True} if mode == "starttls" else \
        {"ssl_context": server_tls}
    controller = Controller(sink, hostname="127.0.0.1", port=port, **extra)
    controller.start()
    try:
        conf = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": mode,
                                           "smtp_timeout": 10.0})
        message = build_message(key="tls-test", from_addr="OneVoice <reports@acme.test>", to_addr="a@acme.test",
                                subject="Over TLS", text="plain", html="<p>html</p>")
        with pytest.raises(ssl.SSLCertVerificationError):
            SmtpTransport(conf).send(message)  # an unknown CA: refused, nothing sent
        assert sink.received == []
        SmtpTransport(conf.model_copy(update={"smtp_ca_file": cert})).send(message)
        assert [rcpts for _, rcpts, _ in sink.received] == [["a@acme.test"]]
    finally:
        controller.stop()


def test_the_threshold_form_offers_every_team_by_name_to_those_who_set_thresholds(browser_for):
    """The settings page's team choice (teams.service.teams_by_name): every team, in name order, for a coordinator;
    nothing for a responder, who sets no threshold."""
    import html
    import re

    from onevoice.demo.seed import TEAMS

    page = browser_for("lee").get("/me/notifications")
    assert page.status_code == 200
    select_html = re.search(r'<select id="rule-team" name="team">(.*?)</select>', page.text, re.S).group(1)
    options = [(key, html.unescape(name))
               for key, name in re.findall(r'<option value="([^"]*)">([^<]*)</option>', select_html)]
    assert options == [("", "the organization")] + sorted(TEAMS.items(), key=lambda kv: kv[1])
    assert 'id="rule-team"' not in browser_for("sam").get("/me/notifications").text
