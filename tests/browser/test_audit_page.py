"""The audit log page says whether the log is sealed by the audit key (and checkpointed), not only intact."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.web.helpers import create_person

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(settings, tmp_path):
    """The server of this module runs with an audit key, as a deployment with ONEVOICE_AUDIT_KEY_FILE does."""
    key = tmp_path / "audit.key"
    key.write_text("s" * 40 + "\n")
    return settings.model_copy(update={"audit_key_file": key})


def test_the_audit_page_says_the_log_is_sealed_and_checkpointed(settings, server, sign_in):
    from onevoice.audit.anchor import anchor_from_settings, session_info, write_checkpoint
    from onevoice.db import make_engine, make_sessionmaker, unit_of_work

    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine, info=session_info(anchor_from_settings(settings)))
    with unit_of_work(factory) as session:
        create_person(session, "ada@acme.test", "Ada Admin", "admin", ["support"])
    page = sign_in("ada@acme.test")
    with factory() as session:
        checkpoint = write_checkpoint(session)
    engine.dispose()
    page.goto(server.url + "/governance/audit")
    status = page.locator(".inbox-head .status")
    expect(status).to_contain_text("Chain intact")
    expect(status).to_contain_text("sealed by the audit key")
    expect(status).to_contain_text(f"checkpoint at record {checkpoint['seq']}")
    assert "sealed: record 1 carries a MAC under the audit key" in status.get_attribute("title")
    shot(page, "audit")
    assert page.js_errors == []
