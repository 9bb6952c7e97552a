"""Governance as people meet it in the browser: a blocked reply, an approval edited and sent, the accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.factories import message as _message

pytestmark = pytest.mark.browser


@pytest.fixture
def governed(settings, server):
    from onevoice.db import make_engine, make_sessionmaker, unit_of_work
    from onevoice.governance.seed import seed_governance

    engine = make_engine(settings.database_url)
    with unit_of_work(make_sessionmaker(engine)) as session:
        seed_governance(session)
    engine.dispose()
    return server


def message(minutes_ago: float = 1, **kw) -> dict:
    return _message(created_at=(datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(), **kw)


def test_blocked_reply_then_an_approval_edited_and_sent(governed, sign_in):
    [plain] = governed.post(message(5, text="Package arrived broken, box crushed", author="li.wei", channel="mast"))
    [risky] = governed.post(message(3, text="My lawyer will be in touch about this refund", author="j_smith",
                                    channel="mast"))
    plain_case, risky_case = governed.case_of(plain), governed.case_of(risky)

    sam = sign_in("sam@acme.test")
    sam.goto(f"{governed.url}/cases/{plain_case}")
    sam.fill("[data-reply]", "Sorry! Write to me at sam.rivera@gmail.com, we are not idiots.")
    sam.click("[data-send]")
    alert = sam.locator("[data-blocked]")
    expect(alert).to_be_visible()
    expect(alert.locator("mark.sev-block").first).to_be_visible()
    expect(alert).to_contain_text("email address")
    expect(sam.locator(".msg-outbound")).to_have_count(0)
    shot(sam, "guard-blocked")

    sam.goto(f"{governed.url}/cases/{risky_case}")
    sam.fill("[data-reply]", "We are sorry. We guarantee a full refund today.")
    sam.click("[data-send]")
    expect(sam.locator("[data-waiting]")).to_contain_text("Waiting for approval by Legal")

    lena = sign_in("lena@acme.test")
    lena.goto(f"{governed.url}/cases/{risky_case}")
    lena.locator(".edit-approve summary").click()
    lena.fill(".edit-approve textarea", "We are sorry. Our team will contact you about the refund today.")
    shot(lena, "approval")
    lena.locator(".edit-approve button[type=submit]").click()
    expect(lena.locator(".msg-outbound .msg-body")).to_have_text(
        "We are sorry. Our team will contact you about the refund today.")
    expect(lena.locator(".msg-outbound .delivery")).to_contain_text("Sent ✓", timeout=10000)
    assert not sam.js_errors and not lena.js_errors


def test_the_account_inventory(governed, sign_in):
    lee = sign_in("lee@acme.test")
    lee.goto(f"{governed.url}/governance/accounts")
    expect(lee.locator("#account-mast")).to_be_visible()
    lee.locator("#account-mast button", has_text="Test").click()
    expect(lee.locator("#account-mast [data-health]")).to_have_text("connected")
    shot(lee, "accounts")


def test_a_fresh_install_shows_its_default_guard_rules(settings, server, sign_in):
    from onevoice.db import make_engine, make_sessionmaker, unit_of_work
    from onevoice.governance.guard_rules import seed_fresh_install

    engine = make_engine(settings.database_url)
    with unit_of_work(make_sessionmaker(engine)) as session:
        assert seed_fresh_install(session) > 0
    engine.dispose()
    lee = sign_in("lee@acme.test")
    lee.goto(f"{server.url}/governance/guard")
    expect(lee.locator("#severities")).to_contain_text("held until an approver decides")
    for name in ("Passwords, keys and tokens", "Promises of compensation", "Slurs and hate terms", "Profanity"):
        expect(lee.locator("table.gov-table")).to_contain_text(name)
    expect(lee.locator("table.gov-table")).to_contain_text("credentials: passwords, private keys, API tokens")
    lee.fill("textarea[name=text]", "Sure! Your new password: Xk7!pq29wz, and we'll refund you in full.")
    lee.click("form[action='/governance/guard/check'] button[type=submit]")
    expect(lee.locator(".result")).to_contain_text("Blocked")
    expect(lee.locator(".findings")).to_contain_text("a credential")
    expect(lee.locator(".findings")).to_contain_text("promise of compensation")
    shot(lee, "guard-defaults")
    assert not lee.js_errors
