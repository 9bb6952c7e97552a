"""A manager and an executive open their report, change the range, drill down to the cases, and export."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.reports.upkeep import upkeep_job
from tests.browser.conftest import shot
from tests.factories import message
from tests.web.helpers import create_person

pytestmark = pytest.mark.browser


def test_manager_and_executive_reports(server, sign_in, settings):
    today = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    items = []
    for day in range(10):
        at = (today - timedelta(days=day)).isoformat()
        items += [message(channel="mast", author=f"c{day}", text="my order never arrived", created_at=at),
                  message(channel="xcom", author=f"p{day}", text="thanks, love it", created_at=at)]
    # A complaint three weeks old, never resolved: past its resolution time (3 days of business hours).
    items.append(message(channel="mast", author="old", text="my order never arrived",
                         created_at=(today - timedelta(days=20)).isoformat()))
    server.post(*items)
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as s:
        create_person(s, "eve@acme.test", "Eve Executive", "executive", [])
        create_person(s, "mia@acme.test", "Mia Manager", "manager", ["support"])
    deadline = time.time() + 20
    while time.time() < deadline:
        if upkeep_job(factory).watermark and _facts(factory) >= 21:
            break
        time.sleep(0.3)
    engine.dispose()

    for email, view in (("mia@acme.test", "manager"), ("eve@acme.test", "executive")):
        page = sign_in(email)
        page.goto(f"{server.url}/reports")
        expect(page.locator("main")).to_have_attribute("data-view", view)
        expect(page.locator("h1")).to_contain_text("Reports")
        # the figures say up to when they count (the upkeep's last pass, just made) and are not behind
        expect(page.locator("[data-as-of]")).to_be_visible()
        expect(page.locator("[data-behind]")).to_have_count(0)
        shot(page, f"reports-{view}")
        # the resolution SLA figure drills down to the cases it counts as missed (what a resolution alert links to)
        page.locator(".tile a", has_text="Resolution SLA met").click()
        page.wait_for_url("**/reports/cases?**figure=resolution_missed")
        expect(page.locator("[data-cases] tbody tr")).to_have_count(1)
        expect(page.locator("[data-cases] tbody tr")).to_contain_text("complaint")
        page.go_back()
        # change the range: the last three days
        page.fill("[data-start]", (today - timedelta(days=2)).date().isoformat())
        page.locator("[data-apply]").click()
        page.wait_for_url("**start=*")
        first = page.locator(".tile").first
        expect(first).to_be_visible()
        # drill down from the "cases opened" figure to the cases behind it
        page.locator(".tile a", has_text="Cases opened").click()
        page.wait_for_url("**/reports/cases?**")
        rows = page.locator("[data-cases] tbody tr")
        expect(rows).not_to_have_count(0)
        shot(page, f"reports-{view}-cases")
        with page.expect_download() as download:
            page.locator("[data-export=cases]").click()
        with open(download.value.path(), encoding="utf-8") as f:
            body = f.read()
        assert body.startswith("case_id,") and body.count("\n") == rows.count() + 1
        if view == "executive":  # counted and listed, not readable
            assert page.locator("[data-cases] a[href^='/cases/']").count() == 0
        else:
            assert page.locator("[data-cases] a[href^='/cases/']").count() > 0
            _set_and_remove_an_objective(page, server.url)
        assert not page.js_errors


def _set_and_remove_an_objective(page, url):
    """The manager types the target in hours, reads it back in hours beside the figure's name, and removes it."""
    page.goto(f"{url}/reports")
    form = page.locator("form[data-objective]")
    form.locator("select[name=metric]").select_option("service.first_response_bh_median_s")
    form.locator("select[name=comparator]").select_option("<=")
    form.locator("input[name=target]").fill("2")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**done=objective*")
    row = page.locator("[data-objective-row='service.first_response_bh_median_s']")
    expect(row).to_contain_text("Customer Support")
    expect(row).to_contain_text("First response, median (business hours)")
    expect(row).to_contain_text("at most 2.0 h")
    page.locator("#obj-h").scroll_into_view_if_needed()
    shot(page, "reports-objective")
    row.get_by_role("button", name="Remove").click()
    page.wait_for_url("**done=objective-removed*")
    expect(page.locator("[data-objective-row]")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("Objective removed.")


def _facts(factory) -> int:
    from sqlalchemy import func, select

    from onevoice.reports.models import CaseFacts

    with factory() as s:
        return s.scalar(select(func.count()).select_from(CaseFacts)) or 0
