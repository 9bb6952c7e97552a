from __future__ import annotations

import pytest
from pydantic import SecretStr

from tests.connectors.mailserver import SMTPServer
from tests.governance.conftest import browser_for, gov_app, org, runtime  # noqa: F401 - shared fixtures
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

