"""An admin answers a person's requests in a real browser: finds her, downloads everything held about her,
erases her; afterwards nobody finds her, by the privacy page or by the inbox's search."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.web.helpers import create_person

pytestmark = pytest.mark.browser
ZELDA = {"external_id": "zq-7734251", "handle": "@zquibble", "name": "Zelda Quibbleworth", "followers": 321}


def test_an_admin_exports_then_erases_a_person(settings, server, sign_in, tmp_path):
    from onevoice.db import make_engine, make_sessionmaker, unit_of_work

    engine = make_engine(settings.database_url)
    with unit_of_work(make_sessionmaker(engine)) as session:
        create_person(session, "ada@acme.test", "Ada Admin", "admin", ["support"])
    engine.dispose()
    ids = server.post(
        {"channel": "mast", "external_id": "zq-1", "kind": "mention", "author": ZELDA,
         "text": "my Zephyrblend order never arrived", "created_at": "2026-11-20T10:00:00Z"},
        {"channel": "mast", "external_id": "zq-2", "kind": "direct", "author": ZELDA,
         "text": "still waiting for the Zephyrblend refund", "created_at": "2026-11-20T11:00:00Z"},
        {"channel": "mast", "external_id": "bob-1", "kind": "mention", "created_at": "2026-11-20T12:00:00Z",
         "author": {"external_id": "bob", "handle": "@bob", "name": "Bob"}, "text": "@zquibble is right, broken"})
    case_id = server.case_of(ids[0])
    server.case_of(ids[2])

    page = sign_in("ada@acme.test")
    for word in ("Zephyrblend", "zquibble"):  # found before: the same look after erasure can fail
        page.goto(server.url + f"/inbox?q={word}&status=all")
        assert f'href="/cases/{case_id}"' in page.content(), word
    page.goto(server.url + "/governance/privacy")
    page.get_by_label("Name, handle, platform id or contact number").fill("zquibble")
    page.get_by_role("button", name="Find").click()
    row = page.locator("#privacy-found tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Zelda Quibbleworth")
    row.get_by_role("link", name="Open").click()
    preview = page.locator("#privacy-preview")
    expect(preview).to_contain_text("2 message(s) they wrote")
    expect(page.locator("#privacy-where")).to_contain_text("messages.text")  # Bob's message mentions her
    shot(page, "privacy-contact")

    page.locator("#export-ref").fill("SAR-2026-012")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download JSON").click()
    path = tmp_path / "export.json"
    download.value.save_as(path)
    doc = json.loads(path.read_text())
    assert doc["contact"]["name"] == "Zelda Quibbleworth"
    assert {m["text"] for m in doc["messages"] if m["written_by_contact"]} == {
        "my Zephyrblend order never arrived", "still waiting for the Zephyrblend refund"}

    contact_page = page.url
    # The form refuses a reference that names her, and says why.
    page.locator("#erase-ref").fill("Zelda Quibbleworth's request")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Erase this person").click()
    expect(page.locator("main")).to_contain_text("the reference contains the person's name")
    page.goto(contact_page)
    page.locator("#erase-ref").fill("DSR-2026-041")
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Erase this person").click()
    expect(page.locator("[data-done]")).to_contain_text("Erasure request")
    requests = page.locator("#privacy-requests tbody tr")
    expect(requests.first).to_contain_text("erasure")
    expect(requests.first).to_contain_text("DSR-2026-041")
    shot(page, "privacy")

    page.get_by_label("Name, handle, platform id or contact number").fill("zquibble")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#privacy-found")).to_contain_text("Nobody matches.")
    for word in ("Zephyrblend", "zquibble", "Quibbleworth"):
        page.goto(server.url + f"/inbox?q={word}&status=all")
        assert f'href="/cases/{case_id}"' not in page.content(), word
    page.goto(server.url + f"/cases/{case_id}")
    expect(page.locator("main")).not_to_contain_text("Zephyrblend")
    expect(page.locator("main")).not_to_contain_text("Quibbleworth")
    assert page.js_errors == []


def test_a_coordinator_sets_retention_and_runs_it(settings, server, sign_in):
    old = {"channel": "mast", "external_id": "old-1", "kind": "direct", "author": ZELDA,
           "text": "an old direct message about Zephyrblend", "created_at": "2025-01-10T10:00:00Z",
           "attachments": [{"type": "image", "url": "https://files.example/old.jpg"}]}
    server.case_of(server.post(old)[0])
    page = sign_in("lee@acme.test")
    page.goto(server.url + "/governance/retention")
    expect(page.locator("#retention-rules")).to_contain_text("No rule")
    page.get_by_label("Channel").select_option("mast")
    page.get_by_label("Kind").select_option("direct")
    page.get_by_label("Days").fill("90")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("#retention-rules")).to_contain_text("90 days")
    page.get_by_role("button", name="Run now").click()
    expect(page.locator("[role=status]")).to_contain_text("is done")
    first = page.locator("#retention-runs tbody tr").first
    expect(first).to_contain_text("lee@acme.test")
    expect(first.locator("td").nth(3)).to_have_text("1")  # anonymized
    expect(first.locator("td").nth(5)).to_have_text("1")  # with attachments
    shot(page, "retention")
    page.goto(server.url + "/inbox?q=Zephyrblend&status=all")
    assert "/cases/" not in page.locator("main").inner_html()
    assert page.js_errors == []
