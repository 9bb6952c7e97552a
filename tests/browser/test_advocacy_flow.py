"""Advocacy in the browser: the coordinator publishes a shareable item, an employee who first has to
acknowledge the policy and do the training shares it on X with one click, a visitor clicks the short link and
lands on the approved page with UTM parameters, and the employee's manager sees the click. Then the
Advocates page ranks the customers who praised and recommended us."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.governance.seed import seed_governance
from tests.browser.conftest import shot
from tests.factories import message
from tests.web.helpers import create_person

pytestmark = pytest.mark.browser
STUB = {"status": 200, "content_type": "text/html", "body": "<!doctype html><title>stub</title><p>outside</p>"}


def test_publish_share_click_and_see_it(server, settings, sign_in, chromium):
    engine = make_engine(settings.database_url)
    with unit_of_work(make_sessionmaker(engine)) as session:
        seed_governance(session)
        create_person(session, "mia@acme.test", "Mia Manager", "manager", ["support"])
    engine.dispose()

    lee = sign_in("lee@acme.test")
    lee.click("nav#topnav >> text=Advocacy")
    lee.wait_for_url("**/advocacy")
    lee.fill("input[name=title]", "Winter opening hours")
    lee.fill("textarea[name=text]", "We are open 9:30 to 18:00 all winter. Come by!")
    lee.fill("input[name=link_url]", "https://acme.example/hours?ref=feed")
    lee.click("summary")
    lee.fill("textarea[name=variant_x]", "Open 9:30-18:00 all winter")
    lee.fill("input[name=campaign]", "winter")
    lee.click("[data-create-item]")
    expect(lee.locator("[data-done]")).to_be_visible()
    item = lee.locator("article[data-item]").first
    expect(item).to_contain_text("Winter opening hours")
    # A text the guard blocks is refused in place, with what was typed kept.
    lee.fill("input[name=title]", "Bad")
    lee.fill("textarea[name=text]", "Only an idiot would miss this")
    lee.fill("input[name=link_url]", "https://acme.example/x")
    lee.click("[data-create-item]")
    expect(lee.locator("[data-blocked] mark.sev-block")).to_have_text("idiot")
    shot(lee, "advocacy-feed")

    sam = sign_in("sam@acme.test")
    sam.goto(server.url + "/advocacy")
    gate = sam.locator("[data-gate]")
    expect(gate).to_contain_text("Acknowledge version 1")
    expect(sam.locator("[data-share]")).to_have_count(0)
    shot(sam, "advocacy-gate")
    gate.locator("a").first.click()
    sam.wait_for_url("**/governance/policy")
    sam.click("text=I have read and accept version 1")
    while sam.locator("text=Mark as completed").count():
        sam.locator("text=Mark as completed").first.click()
        sam.wait_for_load_state("load")
    sam.goto(server.url + "/advocacy")
    expect(sam.locator("[data-gate]")).to_have_count(0)

    sam.context.route("https://x.com/**", lambda route: route.fulfill(**STUB))
    with sam.context.expect_page() as opened:
        sam.locator('[data-share="x"]').first.click()
    x_page = opened.value
    x_page.wait_for_url("https://x.com/**")
    shared = parse_qs(urlsplit(x_page.url).query)
    assert shared["text"] == ["Open 9:30-18:00 all winter"]
    short = shared["url"][0]
    assert short.startswith(server.url + "/s/")

    # A person clicking the link (a browser's ordinary user agent; link previewers are not counted). Playwright
    # does not route a redirect's next hop, so the redirect is read here and the outside page stubbed.
    visitor = chromium.new_context(user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari")
    landed = []

    def follow(route):
        response = route.fetch(max_redirects=0)
        assert response.status == 302
        landed.append(response.headers["location"])
        route.fulfill(**STUB)

    visitor.route(short, follow)
    page = visitor.new_page()
    page.goto(short)
    visitor.close()
    target = parse_qs(urlsplit(landed[0]).query)
    assert urlsplit(landed[0]).netloc == "acme.example" and target["ref"] == ["feed"]
    assert (target["utm_source"], target["utm_medium"], target["utm_campaign"]) == (["x"], ["employee_advocacy"],
                                                                                    ["winter"])
    sam.reload()
    expect(sam.locator("[data-my-shares]")).to_contain_text("1 click")

    mia = sign_in("mia@acme.test")  # Sam's manager (Support)
    mia.goto(server.url + "/advocacy/participation")
    row = mia.locator("#people tbody tr", has_text="Sam Rivera")
    expect(row.locator("[data-clicks]")).to_have_text("1")
    expect(mia.locator("#items")).to_contain_text("Winter opening hours")
    expect(mia.locator("[data-total-clicks]")).to_have_text("1")
    shot(mia, "advocacy-participation")

    # Customers: two who praise (one recommends, with reach), one who complains.
    server.case_of(server.post(
        message(text="Love the new app, I highly recommend it to everyone", author="mira", followers=5400),
        message(text="thanks for the quick fix", author="ben", followers=20, channel="xcom"),
        message(text="The app is broken again, terrible", author="kwame", followers=300))[-1])
    lee.goto(server.url + "/advocates")
    advocates = lee.locator("#advocates tbody tr")
    expect(advocates.first).to_contain_text("Mira")
    expect(advocates.nth(1)).to_contain_text("Ben")
    expect(lee.locator("#detractors")).to_contain_text("Kwame")
    shot(lee, "advocates")
    advocates.first.locator("a").click()
    lee.check("input[name=marks][value=advocate]")
    lee.click("text=Save marks")
    expect(lee.locator("h1 + .mark-advocate")).to_be_visible()
    shot(lee, "advocate")
    lee.goto(server.url + "/inbox")
    expect(lee.locator(".row", has_text="Mira").locator(".mark-advocate")).to_be_visible()
    for page in (lee, sam, mia):
        assert page.js_errors == []
