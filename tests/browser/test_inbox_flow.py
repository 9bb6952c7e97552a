"""The inbox as a person uses it, in a real browser against a real server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.factories import message as _message

pytestmark = pytest.mark.browser


def message(minutes_ago: float = 1, **kw) -> dict:
    """A message written a little while ago, so SLA timers read like a working day's."""
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return _message(created_at=at.isoformat(), **kw)

BACKGROUND = [
    message(95, text="Love the new update, thanks team!", author="mira", followers=5400, channel="mast"),
    message(80, text="Do you ship to Canada? Looking at pricing for 40 seats", author="dev_ops_dan",
            channel="xcom"),
    message(600, text="The app is broken again after the update, terrible", author="kwame", channel="mast"),
    message(40, text="My lawyer will be in touch about this refund", author="j_smith", channel="mail"),
    message(30, text="Are you hiring designers in Berlin?", author="lea", channel="xcom"),
    message(460, text="Still waiting for my refund, three weeks now", author="oscar", channel="mail"),
    message(12, text="Is the blender covered by warranty if the lid cracked?", author="noor", channel="mail"),
    message(3, text="Package arrived broken, box crushed. Terrible packing", author="li.wei", channel="xcom"),
]


def test_a_responder_works_a_case_from_arrival_to_resolution(server, sign_in):
    server.post(*BACKGROUND)
    page = sign_in("sam@acme.test")
    expect(page.locator("#rows .row").first).to_be_visible()
    expect(page.locator(".rail-item.active")).to_contain_text("Customer Support")

    # A new message arrives while Sam is looking at the support queue: it appears without a reload.
    [mid] = server.post(message(text="My order never arrived and nobody answers. Terrible!", author="ana",
                                followers=1200, channel="mast"))
    row = page.locator("#rows .row", has_text="never arrived")
    expect(row).to_be_visible(timeout=5000)
    case_id = server.case_of(mid)
    page.wait_for_timeout(900)  # the rail counts refresh after a short debounce
    shot(page, "inbox")

    # Keyboard: j selects the first row, o opens it.
    page.keyboard.press("j")
    expect(page.locator("#rows .row.selected")).to_have_count(1)
    row.locator(".row-link").click()
    page.wait_for_url(f"**/cases/{case_id}**")
    expect(page.locator(".msg-inbound .msg-body")).to_contain_text("never arrived")

    # Bring Product in.
    page.select_option("#case-side select[name=team]", "product")
    page.click("#case-side button:has-text('Add team')")
    expect(page.locator("#case-side .teams-list")).to_contain_text("Product")

    # A note that mentions Legal notifies it and brings it onto the case.
    page.keyboard.press("n")
    page.keyboard.type("@legal can we promise a refund here?")
    page.click("button:has-text('Add note')")
    expect(page.locator("#timeline .note")).to_contain_text("can we promise a refund")
    expect(page.locator("#case-side .teams-list")).to_contain_text("Legal")
    # A mention that reaches nobody (no such person, or someone who cannot see the case) is said, not dropped.
    page.keyboard.press("n")
    page.keyboard.type("@nobody have a look")
    page.click("button:has-text('Add note')")
    expect(page.locator("#toast")).to_contain_text("not notified: @nobody: nobody of that name can see this case")
    expect(page.locator("#timeline [data-not-notified]").first).to_contain_text("Not notified: @nobody")
    shot(page, "case-note-not-notified")

    # Reply with an approved answer; variables are filled in; it goes out through the outbox.
    page.click("[data-toggle=answers]")
    answer = page.locator("#answer-list [data-answer]", has_text="Order trouble")
    expect(answer).to_be_visible()
    answer.click()
    expect(page.locator("[data-reply]")).to_have_value(re.compile(r"^Hi Ana, sorry about the trouble"))
    expect(page.locator("[data-counter]")).to_contain_text("/ 500")
    page.click("[data-send]")
    outbound = page.locator(".msg-outbound").last
    expect(outbound).to_contain_text("sorry about the trouble")
    expect(outbound.locator(".delivery")).to_contain_text("Sent", timeout=8000)

    # One-click intent correction.
    page.locator(".msg-inbound .correct summary").first.click()
    page.click(".msg-inbound .correct[open] button[data-correct='intent:question']")
    expect(page.locator(".msg-inbound .correct summary").first).to_contain_text("Question")
    expect(page.locator("#timeline")).to_contain_text("corrected intent")
    page.wait_for_timeout(300)
    shot(page, "case")

    # Resolve with the keyboard.
    page.keyboard.press("e")
    expect(page.locator("#case-head [data-status]")).to_have_text("Resolved")
    assert not page.js_errors, page.js_errors


def test_two_people_on_one_case_see_each_other_and_collisions_are_confirmed(server, sign_in):
    [mid] = server.post(message(text="Your checkout page is broken, terrible", author="rui", channel="mast"))
    case_id = server.case_of(mid)
    sam = sign_in("sam@acme.test")
    lee = sign_in("lee@acme.test")
    sam.goto(f"{server.url}/cases/{case_id}")
    lee.goto(f"{server.url}/cases/{case_id}")
    expect(lee.locator("#presence")).to_contain_text("Sam Rivera is viewing", timeout=10000)
    expect(sam.locator("#presence")).to_contain_text("Lee Coordinator is viewing", timeout=10000)

    sam.fill("[data-reply]", "")
    sam.locator("[data-reply]").type("Hi Rui, ")
    expect(lee.locator("#presence")).to_contain_text("Sam Rivera is typing", timeout=5000)

    lee.fill("[data-reply]", "Hi Rui, we're fixing checkout now.")
    lee.click("[data-send]")
    expect(lee.locator(".msg-outbound")).to_have_count(1)

    sam.locator("[data-reply]").type("sorry about checkout!")
    sam.click("[data-send]")
    alert = sam.locator("#composer-alert .alert")
    expect(alert).to_contain_text("Lee Coordinator replied")
    expect(alert).to_contain_text("we're fixing checkout now")
    shot(sam, "collision")
    alert.locator("[data-confirm-send]").click()
    expect(sam.locator(".msg-outbound")).to_have_count(2, timeout=8000)
    assert not sam.js_errors and not lee.js_errors


def test_a_hostile_post_is_shown_as_text(server, sign_in):
    hostile = ('<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
               '<b>bold?</b> \u202eevil\u202c 🙂 {{7*7}}')
    [mid] = server.post(message(text=hostile, author="<svg onload=alert(1)>", channel="xcom"))
    case_id = server.case_of(mid)
    page = sign_in("sam@acme.test")
    row = page.locator(f"#case-{case_id}")
    expect(row).to_contain_text("<script>window.__pwned = 1</script>")
    page.goto(f"{server.url}/cases/{case_id}")
    body = page.locator(".msg-inbound .msg-body")
    expect(body).to_have_text(hostile)
    expect(page.locator(".msg-inbound .msg-head")).to_contain_text("<svg onload=alert(1)>")
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".msg-body b").count() == 0 and page.locator(".msg-body img").count() == 0


def test_a_right_to_left_override_in_a_name_stays_inside_it(server, sign_in):
    """U+202E unclosed in a handle reversed the rest of its line ("@x on xcom · #tag", the case page's "· channel ·
    kind" and time): each customer's value shown inline is isolated in a <bdi>, the page's words stay outside."""
    [mid] = server.post(message(text="where is my order \u202eredro ym", author="\u202eevil", channel="xcom"))
    case_id = server.case_of(mid)
    page = sign_in("sam@acme.test")
    row = page.locator(f"#case-{case_id}")
    expect(row.locator(".who-text b bdi")).to_have_text("\u202eEvil")
    expect(row.locator(".who-text small bdi")).to_have_text("@\u202eevil")
    expect(row.locator(".subject bdi")).to_contain_text("where is my order")
    # The page's own words are not inside any customer's value: the isolate ends before them.
    assert row.locator(".who-text small").evaluate("e => e.lastChild.textContent") == " · xcom"
    shot(page, "bidi-row")
    page.goto(f"{server.url}/cases/{case_id}")
    head = page.locator(".msg-inbound .msg-head")
    expect(head.locator("b bdi")).to_have_text("\u202eEvil")
    expect(head.locator(".muted bdi")).to_have_text("@\u202eevil")
    expect(page.locator("h1 bdi")).to_contain_text("where is my order")
    expect(page.locator(".customer b bdi")).to_have_text("\u202eEvil")
    expect(page.locator(".customer .muted bdi")).to_have_text("@\u202eevil")
    expect(page.locator(".msg-inbound .avatar")).to_have_text("E")  # not the override, which showed nothing
    shot(page, "bidi-case")
    assert not page.js_errors


def test_sign_in_and_library_pages(server, chromium, sign_in):
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(server.url + "/inbox")
    page.wait_for_url("**/login**")
    shot(page, "login")
    page.fill("input[name=email]", "sam@acme.test")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    expect(page.locator(".alert-error")).to_contain_text("do not match")
    context.close()

    lee = sign_in("lee@acme.test")
    lee.goto(server.url + "/library")
    lee.fill("input[name=title]", "Outage: status page")
    lee.fill("textarea[name=body]", "Hi {{first_name}}, follow status.example.com for updates.")
    lee.click(".lib-form button[type=submit]")
    expect(lee.locator(".library-list")).to_contain_text("Outage: status page")
    shot(lee, "library")
