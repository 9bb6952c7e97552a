"""A coordinator subscribes to the digest and alerts and sets an SLA threshold; an incident then shows on their
notifications page; on a sales lead's case they record it won with its amount."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from onevoice.cases.models import Incident
from onevoice.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from onevoice.notifications.alerts import check_alerts
from tests.browser.axe import describe, failing, violations, with_axe
from tests.browser.conftest import shot
from tests.browser.world import message

pytestmark = pytest.mark.browser


def test_subscribe_get_an_alert_and_record_a_lead_won(server, sign_in, settings):
    page = sign_in("lee@acme.test")
    with_axe(page.context)
    page.goto(f"{server.url}/notifications")
    page.locator("#notification-settings-link").click()
    page.wait_for_url("**/me/notifications")
    expect(page.locator("h1")).to_have_text("Your notifications")
    for name in ("weekly_digest", "incident_alerts", "sla_alerts"):
        page.locator(f"#subscriptions input[name={name}]").check()
    page.locator("#subscriptions button[type=submit]").click()
    page.wait_for_url("**done=saved")
    expect(page.locator("[role=status]")).to_have_text("Your notifications are saved.")
    for name in ("weekly_digest", "incident_alerts", "sla_alerts", "alert_email"):
        expect(page.locator(f"#subscriptions input[name={name}]")).to_be_checked()
    page.fill("#rule-threshold", "95")
    page.fill("#rule-days", "14")
    page.locator("#rule-form button[type=submit]").click()
    page.wait_for_url("**done=rule")
    expect(page.locator("#alert-rules tbody tr").first).to_contain_text("95 %")
    expect(page.locator("#alert-rules tbody tr").first).to_contain_text("14 days")

    # An incident opens; the scheduler's alert job runs (here by hand): Lee hears in the app.
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as s:
        s.add(Incident(topic="checkout", summary="payment page failing", opened_at=utcnow(),
                       last_activity_at=utcnow()))
    assert check_alerts(factory, settings)["incident"] == 1
    engine.dispose()
    page.goto(f"{server.url}/me/notifications")
    expect(page.locator("#recent-alerts")).to_contain_text("Incident opened on “checkout”")
    shot(page, "notifications-settings")
    assert not failing(found := violations(page)), describe("/me/notifications", failing(found))
    page.goto(f"{server.url}/notifications")
    expect(page.locator("#notifications-link .badge")).to_have_text("1")
    expect(page.locator(".notification-list li[data-kind=alert]")).to_contain_text("payment page failing")

    # A sales lead: Lee records it won.
    case_id = server.case_of(server.post(message(5, text="Looking at pricing for 40 seats", author="dan",
                                                 channel="xcom"))[0])
    page.goto(f"{server.url}/cases/{case_id}")
    panel = page.locator("#lead-panel")
    expect(panel.locator("#lead-outcome")).to_contain_text("Open")
    panel.get_by_role("radio", name="Won").check()
    panel.get_by_label("Amount if won (EUR)").fill("1200")
    panel.get_by_role("button", name="Save outcome").click()
    expect(page.locator("#lead-outcome")).to_contain_text("Won · 1,200.00 EUR")
    expect(page.locator("#timeline")).to_contain_text("set the lead's outcome: Won (1,200.00 EUR)")
    page.locator("#lead-panel").scroll_into_view_if_needed()
    shot(page, "case-lead-outcome")
    assert not failing(found := violations(page)), describe("a lead's case", failing(found))  # the lead panel too
    assert not page.js_errors
