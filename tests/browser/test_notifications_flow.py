"""A coordinator subscribes to the digest and alerts and sets first-response and resolution SLA thresholds; an
incident then shows on their notifications page, whose links lead to the incident and to its cases; on a sales
lead's case they record it won with its amount."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from onevoice.cases.models import Case, Incident
from onevoice.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from onevoice.notifications.alerts import check_alerts
from onevoice.reports.upkeep import upkeep_job
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
    first_response = set_threshold(page, "first_response_sla", "95", "14")
    expect(first_response).to_contain_text("95 %")
    expect(first_response).to_contain_text("14 days")
    # The second figure, beside the first: resolution SLA attainment.
    resolution = set_threshold(page, "resolution_sla", "80", "7")
    expect(resolution).to_contain_text("Resolution SLA attainment")
    expect(resolution).to_contain_text("80 %")
    expect(page.locator("#alert-rules tbody tr")).to_have_count(2)

    # A complaint's case joins an incident that opens; the scheduler's jobs run (here by hand): Lee hears in the
    # app, with links to the incident and to its cases.
    case_id = server.case_of(server.post(message(3, text="checkout fails, my card is refused", author="cy",
                                                 channel="xcom"))[0])
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as s:
        incident = Incident(topic="checkout", summary="payment page failing", opened_at=utcnow(),
                            last_activity_at=utcnow())
        s.add(incident)
        s.flush()
        s.get(Case, case_id).incident_id = incident_id = incident.id
    _facts_of(factory, case_id)
    assert check_alerts(factory, settings)["incident"] == 1
    engine.dispose()
    page.goto(f"{server.url}/me/notifications")
    expect(page.locator("#recent-alerts")).to_contain_text("Incident opened on “checkout”")
    shot(page, "notifications-settings")
    assert not failing(found := violations(page)), describe("/me/notifications", failing(found))
    page.goto(f"{server.url}/notifications")
    expect(page.locator("#notifications-link .badge")).to_have_text("1")
    alert = page.locator(".notification-list li[data-kind=alert]")
    expect(alert).to_contain_text("payment page failing")
    expect(alert.locator("a[data-link='its cases']")).to_have_text("its cases")
    shot(page, "notifications-alert")
    assert not failing(found := violations(page)), describe("/notifications", failing(found))
    alert.get_by_role("link", name="Incident opened on “checkout”: payment page failing").click()
    page.wait_for_url(f"**/incidents#incident-{incident_id}")
    target = page.locator("tr:target")
    expect(target).to_have_attribute("data-incident", str(incident_id))
    expect(target).to_contain_text("checkout")
    shot(page, "incident-from-alert")
    assert not failing(found := violations(page)), describe("/incidents#incident", failing(found))
    page.go_back()
    page.locator(".notification-list li[data-kind=alert] a[data-link='its cases']").click()
    page.wait_for_url(f"**/reports/cases?**figure=incident%3A{incident_id}")
    expect(page.locator(f"[data-cases] tbody a[href='/cases/{case_id}']")).to_have_count(1)
    expect(page.locator("[data-cases] tbody tr")).to_have_count(1)

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


def set_threshold(page, metric: str, percent: str, days: str):
    """Fill and send the threshold form for the organization; the rules table's row of that figure."""
    page.select_option("#rule-metric", metric)
    page.fill("#rule-threshold", percent)
    page.fill("#rule-days", days)
    page.locator("#rule-form button[type=submit]").click()
    page.wait_for_url("**done=rule")
    return page.locator(f"#alert-rules tbody tr[data-metric={metric}]")


def _facts_of(factory, case_id: int, timeout: float = 20) -> None:
    """Run the reports' upkeep until the case's facts are there (the worker may still be writing its events)."""
    import time

    from onevoice.reports.models import CaseFacts

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        upkeep_job(factory)
        with factory() as s:
            if s.get(CaseFacts, case_id) is not None:
                return
        time.sleep(0.2)
    raise AssertionError(f"no report facts for case {case_id}")
