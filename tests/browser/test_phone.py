"""OneVoice on a phone (390 x 844, the size of most current phones): the inbox with its queues as a menu, a case
with the conversation first and a composer that stays usable with the on-screen keyboard up, approvals decided in
two taps, incidents. (That no page scrolls sideways, at every role's view, is in test_accessibility.py.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser

PHONE = (390, 844)


def inside(page, locator) -> bool:
    """The element is wholly on screen (not off to a side, not under the fold)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5 \
        and box["y"] + box["height"] <= size["height"] + 0.5


def test_the_inbox_on_a_phone_rows_queues_menu_and_filters(server, world, sign_in):
    lee = sign_in("lee@acme.test", viewport=PHONE)
    lee.goto(server.url + "/inbox?queue=open")
    row = lee.locator("#rows .row", has_text="Package arrived broken")
    # Each row shows who wrote, what about, and the SLA, on screen.
    for part in (".who-text b", ".subject", ".cell.sla .sla"):
        expect(row.locator(part)).to_be_visible()
        assert inside(lee, row.locator(part)), part
    expect(row.locator(".who-text b")).to_have_text("Li.Wei")
    expect(lee.locator("#rail")).to_be_hidden()
    expect(lee.locator("#filters")).to_be_hidden()
    shot(lee, "inbox-phone")

    # The queues are a menu: open it, pick a queue.
    toggle = lee.locator(".queue-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(lee.locator("#rail")).to_be_visible()
    expect(lee.locator("#rail .rail-item").first).to_be_focused()
    shot(lee, "inbox-phone-queues")
    lee.keyboard.press("Escape")
    expect(lee.locator("#rail")).to_be_hidden()
    expect(toggle).to_be_focused()
    toggle.click()
    lee.locator("#rail .rail-item", has_text="Legal & Compliance").click()
    lee.wait_for_url(re.compile(r"queue=team%3Alegal"))
    expect(lee.locator("h1")).to_contain_text("Legal")

    # The filters fold behind a button; the top bar's links behind Menu.
    lee.locator(".filters-toggle").click()
    expect(lee.locator("#filters select[name=channel]")).to_be_visible()
    menu = lee.locator(".menu-toggle")
    expect(lee.locator("#topnav")).to_be_hidden()
    menu.click()
    expect(lee.locator("#topnav a", has_text="Governance")).to_be_visible()
    expect(lee.locator("#topnav button", has_text="Sign out")).to_be_visible()
    shot(lee, "menu-phone")
    assert lee.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    assert not lee.js_errors, lee.js_errors


def test_a_case_on_a_phone_conversation_first_and_the_composer_above_the_keyboard(server, world, sign_in):
    sam = sign_in("sam@acme.test", viewport=PHONE)
    sam.goto(f"{server.url}/cases/{world['case']}")
    first = sam.locator(".msg-inbound").first
    expect(first).to_contain_text("broken again after the update")
    # The conversation comes before the customer, teams and routing panels, and starts on the first screen.
    assert first.bounding_box()["y"] < PHONE[1]
    assert first.bounding_box()["y"] < sam.locator("#case-side").bounding_box()["y"]
    shot(sam, "case-phone")

    reply, send = sam.locator("[data-reply]"), sam.locator("[data-send]")
    reply.click()
    # The on-screen keyboard takes the lower half of the screen (with interactive-widget=resizes-content the page
    # is laid out in what is left): the reply box and Send stay in view while typing.
    sam.set_viewport_size({"width": PHONE[0], "height": 430})
    reply.type("Hi Kwame, sorry: a fix for the update ships today.")
    sam.wait_for_timeout(500)
    assert inside(sam, reply) and inside(sam, send)
    assert sam.evaluate("getComputedStyle(document.querySelector('[data-reply]')).fontSize") == "16px"  # no zoom
    shot(sam, "case-phone-keyboard")
    send.click()
    expect(sam.locator(".msg-outbound .msg-body").last).to_have_text(
        "Hi Kwame, sorry: a fix for the update ships today.")
    assert not sam.js_errors, sam.js_errors


def test_many_people_viewing_a_case_on_a_phone_wrap_instead_of_widening_the_page(server, world, sign_in):
    """Four or more "is viewing" chips once made the case page 418 px wide on a 390 px phone (found by the
    accessibility walk viewing a case as every role at once). The chips are added here as app.js draws them
    (same classes and text), six of them, since a walk has at most as many viewers as roles."""
    sam = sign_in("sam@acme.test", viewport=PHONE)
    sam.goto(f"{server.url}/cases/{world['case']}")
    expect(sam.locator(".msg-inbound").first).to_be_visible()
    sam.evaluate("""() => {
      const el = document.getElementById("presence");
      for (const name of ["Alexandra Papadopoulou", "Bo Li", "Carmen Ortega", "Dmitri Ivanov", "Efua Mensah",
                          "Francesca Bianchi"]) {
        const chip = document.createElement("span");
        chip.className = "who-on";
        const av = document.createElement("span");
        av.className = "avatar avatar-xs";
        av.textContent = name.split(" ").map((s) => s[0]).join("");
        chip.append(av, document.createTextNode(`${name} is viewing`));
        el.append(chip);
      }
    }""")
    assert sam.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    assert inside(sam, sam.locator(".presence .who-on").last.locator(".avatar"))
    shot(sam, "case-phone-many-viewers")


def test_approvals_on_a_phone_reject_with_a_reason_in_two_taps_approve_in_one(server, world, sign_in):
    lena = sign_in("lena@acme.test", viewport=PHONE)  # Legal approves the reply held on the legal case
    lena.goto(server.url + "/approvals")
    request = lena.locator("[data-approval]").first
    expect(request).to_contain_text("guarantee a full refund")
    shot(lena, "approvals-phone")
    reason = request.locator("[data-reason]", has_text="Promises too much")
    reject = request.locator("button[value=reject]")
    assert inside(lena, reason) or reason.scroll_into_view_if_needed() is None
    reason.click()  # tap 1: the reason
    expect(request.locator("[data-reason-field]")).to_have_value("Promises too much")
    expect(reason).to_have_attribute("aria-pressed", "true")
    reject.click()  # tap 2: reject
    lena.wait_for_url("**/approvals")
    expect(lena.locator("[data-approval]")).to_have_count(0)
    lena.goto(f"{server.url}/cases/{world['legal_case']}")
    expect(lena.locator(".msg-outbound .delivery")).to_contain_text("Not sent")
    expect(lena.locator("#timeline")).to_contain_text("Reply rejected")

    # Approving is one tap: the partner's post waits for PR (Lee).
    lee = sign_in("lee@acme.test", viewport=PHONE)
    lee.goto(server.url + "/approvals")
    post = lee.locator("[data-approval][data-what=post]")
    expect(post).to_contain_text("Berlin fair")
    post.locator("button[value=approve]").click()
    lee.wait_for_url("**/approvals")
    expect(lee.locator("[data-approval][data-what=post]")).to_have_count(0)
    assert not lena.js_errors and not lee.js_errors


def test_incidents_on_a_phone_closed_with_a_reason(server, world, sign_in):
    lee = sign_in("lee@acme.test", viewport=PHONE)
    lee.goto(server.url + "/incidents")
    incident = lee.locator("[data-incident]").first
    expect(incident).to_contain_text("checkout")
    assert inside(lee, incident.locator("b", has_text="checkout"))
    shot(lee, "incidents-phone")
    incident.locator("input[name=reason]").fill("Fix deployed, volume back to normal")
    incident.locator("button", has_text="Close").click()
    expect(lee.locator("[data-incident]").first).to_contain_text("Fix deployed, volume back to normal")
    assert lee.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
