"""Publishing in the browser: compose with the live counter, schedule one post in local time, publish another."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser


def test_compose_schedule_and_publish(server, sign_in):
    lee = sign_in("lee@acme.test")
    lee.click("[data-rail-publish]")
    lee.wait_for_url("**/posts")
    text = lee.locator("[data-post-text]")
    lee.check("input[name=channels][value=mast]")
    text.fill("x" * 501)
    counter = lee.locator('[data-counter-for="mast"]')
    expect(counter).to_have_text("501 / 500")
    expect(counter).to_have_class(re.compile("over"))
    expect(lee.locator("[data-publish]")).to_be_disabled()

    # Scheduled for tomorrow 09:30 in the browser's time zone; shown back in local time, stored in UTC.
    text.fill("Our winter opening hours start tomorrow: 9:30 to 18:00.")
    expect(lee.locator("[data-publish]")).to_be_enabled()
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT09:30")
    lee.fill("[data-schedule-local]", tomorrow)
    lee.click("[data-publish]")
    expect(lee.locator("[data-done]")).to_be_visible()
    scheduled = lee.locator('[data-state="scheduled"]').first
    expect(scheduled).to_contain_text("Our winter opening hours")
    expect(lee.locator(".calendar")).to_contain_text("9:30")

    lee.fill("[data-post-text]", "Fresh bread every morning from seven. Come by!")
    lee.check("input[name=channels][value=mast]")
    lee.check("input[name=channels][value=xcom]")
    lee.fill("input[name=media_url]", "https://cdn.acme.example/bread.jpg")
    lee.fill("input[name=media_alt]", "a basket of bread")
    lee.click("[data-publish]")
    sent = lee.locator("article.post").first
    expect(sent).to_contain_text("Fresh bread every morning")
    expect(sent.locator('[data-target-state="sent"]')).to_have_count(2)
    expect(sent.locator("a", has_text="view on the platform").first).to_be_visible()
    shot(lee, "publish")
    assert lee.js_errors == []
