"""Every connector test runs with the server's logging turned up to DEBUG, and fails if a configured secret
(tokens, app secrets, passwords, webhook secrets) shows up in what was logged."""

from __future__ import annotations

import io
import logging
from urllib.parse import quote, quote_plus

import pytest

from onevoice.connectors import registry
from onevoice.ops.logging import configure_logging
from tests.connectors.cases import CASES


def configured_secrets() -> dict[str, str]:
    """Every secret field of every contract case's settings, as written and as a URL would carry it."""
    out = {}
    for kind, case in CASES.items():
        for field in registry.settings_fields(kind):
            value = case.config.get(field["name"]) if field["secret"] else None
            if isinstance(value, str) and len(value) >= 6:
                for form in {value, quote(value, safe=""), quote_plus(value)}:
                    out[form] = f"{kind}.{field['name']}"
    return out


SECRETS = configured_secrets()


@pytest.fixture(autouse=True)
def no_secret_in_debug_logs():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", json=True)  # what `onevoice serve` and `worker` install, at the loudest level
    logged = io.StringIO()
    root.handlers[0].setStream(logged)
    try:
        yield
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    leaked = sorted({name for secret, name in SECRETS.items() if secret in logged.getvalue()})
    assert not leaked, f"configured secrets in the logs: {', '.join(leaked)}"
