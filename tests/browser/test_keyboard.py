"""The keyboard alone, and what a screen reader hears: shortcuts that never take Enter from a focused control,
row selection that moves the focus, dropdowns that act only when meant to, focus that survives every update,
closing a case that can be undone, errors and new cases announced politely."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.world import message

pytestmark = pytest.mark.browser

FOCUSED = "document.activeElement"


def focused(page) -> dict:
    return page.evaluate(f"""(() => {{ const e = {FOCUSED}; const row = e.closest('.row');
      return {{tag: e.tagName, name: e.getAttribute('name'), text: (e.textContent || '').trim().slice(0, 60),
               current: e.getAttribute('aria-current'), row: row ? row.dataset.case : null}}; }})()""")


def test_inbox_by_keyboard_skip_link_rows_and_enter_on_controls(server, world, sign_in):
    lee = sign_in("lee@acme.test")
    lee.goto(server.url + "/inbox?queue=open")
    first, second = [r.get_attribute("data-case") for r in lee.locator("#rows > .row").all()[:2]]

    # The first Tab reaches the skip link; it leads straight to the cases (not 34 Tabs away).
    lee.keyboard.press("Tab")
    skip = lee.locator(".skip-link")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0  # shown when focused
    shot(lee, "skip-link")
    lee.keyboard.press("Enter")
    now = focused(lee)
    assert (now["row"], now["current"]) == (first, "true"), now

    # j and k move the selection and the focus together; the selected row says so (aria-current).
    lee.keyboard.press("j")
    assert focused(lee)["row"] == second and focused(lee)["current"] == "true"
    expect(lee.locator(f"#case-{first} .row-link")).not_to_have_attribute("aria-current", "true")
    expect(lee.locator(f"#case-{second}")).to_have_class(re.compile("selected"))
    ring = lee.evaluate(f"[getComputedStyle({FOCUSED}).outlineStyle, getComputedStyle({FOCUSED}).outlineWidth]")
    assert ring == ["solid", "2px"], ring
    lee.keyboard.press("k")
    assert focused(lee)["row"] == first

    # Enter on a focused queue link follows that link, not the selected case.
    lee.locator("#rail .rail-item", has_text="Customer Support").focus()
    lee.keyboard.press("Enter")
    lee.wait_for_url(re.compile(r"queue=team%3Asupport"))

    # Enter on the help button opens the help; closing it puts the focus back on the button.
    lee.keyboard.press("j")
    help_button = lee.locator("[data-open-help]")
    help_button.focus()
    lee.keyboard.press("Enter")
    expect(lee.locator("#help")).to_be_visible()
    lee.keyboard.press("Escape")
    expect(lee.locator("#help")).to_be_hidden()
    expect(help_button).to_be_focused()

    # Fields show a clear focus ring (the accent, 2px; it used to be a 1.1:1 tint).
    search = lee.locator("[data-search]")
    search.focus()
    assert lee.evaluate(f"getComputedStyle({FOCUSED}).outlineColor") == "rgb(59, 91, 219)"
    assert lee.evaluate(f"getComputedStyle({FOCUSED}).outlineWidth") == "2px"

    # Enter on a row opens its case, with the way back to this queue.
    lee.keyboard.press("Escape")
    lee.keyboard.press("j")
    row = focused(lee)["row"]
    lee.keyboard.press("Enter")
    lee.wait_for_url(f"**/cases/{row}?back=*")
    lee.keyboard.press("u")
    lee.wait_for_url(re.compile(r"/inbox\?queue=team%3Asupport"))

    # And Enter on Sign out signs out.
    lee.locator("button", has_text="Sign out").focus()
    lee.keyboard.press("Enter")
    lee.wait_for_url("**/login**")
    assert not lee.js_errors, lee.js_errors


def test_dropdowns_act_only_when_meant_to_and_the_focus_stays_put(server, world, sign_in):
    lee = sign_in("lee@acme.test")
    lee.goto(server.url + "/inbox?queue=open")
    url = lee.url
    # One ArrowDown on a filter used to reload the page (WCAG 3.2.2): now it waits for Enter.
    lee.locator("#filters select[name=channel]").focus()
    lee.keyboard.press("ArrowDown")
    lee.wait_for_timeout(800)
    assert lee.url == url
    expect(lee.locator("#filters [data-apply]")).to_be_visible()
    expect(lee.locator("#announcer")).to_contain_text("press Enter to apply")
    lee.keyboard.press("Enter")
    lee.wait_for_url(re.compile(r"channel=mail"))
    assert focused(lee)["name"] == "channel"  # the reload puts the focus back on the filter used

    # On a case: one ArrowDown on Status changes nothing until Enter; Escape puts it back.
    lee.goto(f"{server.url}/cases/{world['case']}")
    status = lee.locator("#case-head select[name=status]")
    status.focus()
    lee.keyboard.press("ArrowDown")
    lee.wait_for_timeout(800)
    expect(lee.locator("#case-head [data-status]")).to_have_text("Open")
    lee.keyboard.press("Escape")
    expect(status).to_have_value("open")
    expect(lee.locator("#case-head [data-apply]")).to_be_hidden()

    # A change made with Enter happens, and the focus stays on the list used (the head was re-rendered).
    priority = lee.locator("#case-head select[name=priority]")
    priority.focus()
    lee.keyboard.press("ArrowDown")
    lee.keyboard.press("Enter")
    expect(lee.locator("#case-head .case-meta .prio-tag")).to_have_text("Low")
    expect(lee.locator("#case-head select[name=priority]")).to_be_focused()

    # Resolving (the e key) moves the focus to Reopen, and offers to undo.
    lee.keyboard.press("Escape")
    lee.keyboard.press("e")
    expect(lee.locator("#case-head [data-status]")).to_have_text("Resolved")
    expect(lee.locator("[data-resolve], #case-head button", has_text="Reopen")).to_be_focused()
    expect(lee.locator("#announcer")).to_contain_text("resolved")
    undo = lee.locator("#toast [data-toast-action]")
    expect(undo).to_have_text("Undo")
    shot(lee, "undo")
    undo.click()
    expect(lee.locator("#case-head [data-status]")).to_have_text("Open")

    # Closing as spam from the list, by keyboard, also offers the undo.
    status = lee.locator("#case-head select[name=status]")
    status.focus()
    lee.keyboard.press("End")
    lee.keyboard.press("Enter")
    expect(lee.locator("#case-head [data-status]")).to_have_text("Closed as spam")
    expect(lee.locator("#case-head select[name=status]")).to_be_focused()
    lee.locator("#toast [data-toast-action]").click()
    expect(lee.locator("#case-head [data-status]")).to_have_text("Open")

    # A button in the side panel keeps the focus after the panel is re-rendered.
    lee.locator("#case-side form.row-form select[name=team]").select_option("product")
    add = lee.locator("#case-side button", has_text="Add team")
    add.focus()
    lee.keyboard.press("Enter")
    expect(lee.locator("#case-side .teams-list")).to_contain_text("Product")
    expect(lee.locator("#case-side button", has_text="Add team")).to_be_focused()
    assert not lee.js_errors, lee.js_errors


def test_a_key_pressed_before_a_re_render_settles_still_acts(server, world, sign_in):
    # htmx binds a swapped-in part's triggers only when the swap settles. CI once pressed End and Enter on the
    # new Status list inside that gap and nothing was sent; a long settle makes the gap certain here.
    lee = sign_in("lee@acme.test")
    lee.goto(f"{server.url}/cases/{world['case']}")
    lee.evaluate("htmx.config.defaultSettleDelay = 4000")
    priority = lee.locator("#case-head select[name=priority]")
    priority.focus()
    lee.keyboard.press("ArrowDown")
    lee.keyboard.press("Enter")
    expect(lee.locator("#case-head .case-meta .prio-tag")).to_have_text("Low")  # the head is new, not settled
    status = lee.locator("#case-head select[name=status]")
    status.focus()
    lee.keyboard.press("End")
    lee.keyboard.press("Enter")
    expect(lee.locator("#case-head [data-status]")).to_have_text("Closed as spam", timeout=2500)
    assert not lee.js_errors, lee.js_errors


def test_errors_and_new_cases_are_announced_politely(server, world, sign_in):
    sam = sign_in("sam@acme.test")
    sam.goto(f"{server.url}/cases/{world['case']}")
    announcer = sam.locator("#announcer")
    assert announcer.get_attribute("aria-live") == "polite"  # in the page from the start, never display: none
    assert sam.evaluate("getComputedStyle(document.getElementById('announcer')).display") != "none"
    sam.click("[data-send]")  # an empty reply: refused
    expect(sam.locator("#toast")).to_contain_text("a reply needs some text")
    expect(announcer).to_have_text("a reply needs some text")
    sam.click("[data-note-form] button[type=submit]")  # an empty note: refused too
    expect(sam.locator("#toast")).to_contain_text("a note needs some text")
    expect(sam.locator("#toast")).not_to_contain_text("a reply needs")  # the older message is gone, not underneath
    expect(announcer).to_have_text("a note needs some text")
    expect(sam.locator("#toast .toast-text")).to_have_count(1)

    # A reply being written is not lost by leaving the page: the browser asks first.
    sam.fill("[data-reply]", "Half a sentence")
    asked = []
    sam.on("dialog", lambda d: (asked.append(d.type), d.dismiss()))
    sam.keyboard.press("Escape")
    sam.keyboard.press("u")
    sam.wait_for_timeout(500)
    assert asked == ["beforeunload"] and "/cases/" in sam.url
    sam.fill("[data-reply]", "")

    # In the inbox, with a row selected (the reader is busy), a new case waits behind the pill and is announced.
    sam.goto(server.url + "/inbox?queue=team:support")
    sam.keyboard.press("j")
    sam.keyboard.press("j")
    server.post(message(text="My order never arrived and nobody answers", author="ana", channel="mast"))
    pill = sam.locator("#new-pill")
    expect(pill).to_have_text("1 new case · show", timeout=8000)
    expect(announcer).to_contain_text("1 new case: Ana", timeout=5000)
    expect(announcer).to_contain_text("wait above the list")
    pill.click()
    expect(sam.locator("#rows .row").first).to_contain_text("never arrived")
    assert focused(sam)["row"] == sam.locator("#rows .row").first.get_attribute("data-case")
    assert not sam.js_errors, sam.js_errors
