"""Every optional field of a message may be missing: the pages, the live row and the API still answer.

The messages come from each connector's recorded payloads (tests/connectors), as mapped and stripped down to
what intake requires (author id only: no name, handle, followers, text, url, attachments, in_reply_to, raw),
and from the API's smallest valid message. Each is taken in through intake, processed, then shown as a person
and a program would see it: the case page, the inbox page and row (what the page fetches on a live event), the
case's parts (re-rendered after each action) and the JSON API.
"""

from __future__ import annotations

import html
from contextlib import nullcontext

import orjson
import pytest
from sqlalchemy import select

from onevoice.channels.models import Channel
from onevoice.channels.service import add_channel
from onevoice.connectors import registry
from onevoice.contacts.names import author_view, display_name
from onevoice.db import unit_of_work
from onevoice.pipeline.inbound import accept_from_connector
from onevoice.worker.runner import EmbeddedWorker
from tests.connectors.cases import CASES
from tests.connectors.cases.base import NOW, fixture_bytes
from tests.connectors.transport import Transport

pytestmark = pytest.mark.both_databases
REQUIRED = ("channel", "external_id", "kind", "created_at")


def recorded(kind: str) -> list[dict]:
    """What this connector maps from its recorded webhook deliveries and polls, in order."""
    from onevoice.connectors.base import WebhookRequest

    case = CASES[kind]
    out: list[dict] = []
    for name in case.webhooks:
        body = fixture_bytes(case.platform, name)
        connector = registry.build(kind, case.config, now=lambda: NOW)
        with Transport(case.stack) as t:
            if case.setup_webhook:
                case.setup_webhook(t)
            out += connector.parse_webhook(WebhookRequest.build("POST", case.sign(body, NOW), body=body,
                                                                received_at=NOW))
    if case.setup_poll:
        with case.servers() if case.servers else nullcontext({}) as overrides, Transport(case.stack) as t:
            case.setup_poll(t)
            out += registry.build(kind, {**case.config, **overrides}, now=lambda: NOW).poll(None)[0]
    return out


def minimal(item: dict) -> dict:
    """Only what intake requires, under a new id (the mapped message keeps its own)."""
    out = {k: item[k] for k in REQUIRED if k in item}
    out["external_id"] = f"min-{item['external_id']}"
    out["author"] = {"external_id": item["author"]["external_id"]}
    return out


def processed(runtime) -> list[dict]:
    """Drain the queue; the live events the worker published."""
    events: list[dict] = []
    worker = EmbeddedWorker(runtime.processor, runtime.session_factory, lambda batch: events.extend(batch))
    worker.drain(timeout=60)
    return events


def check_shown(api, browser, message_id: int, live: list[dict]) -> None:
    m = api.get(f"/api/v1/messages/{message_id}")
    assert m.status_code == 200, m.text
    m = m.json()
    assert m["status"] == "processed", m
    author = m["author"]
    assert set(author) >= {"external_id", "handle", "name", "followers", "display_name"}
    if m["case_id"] is None:
        assert m["deleted_at"], m  # a deletion of a message never seen: kept for the record, no case
        return
    assert author["display_name"] == display_name(author["name"], author["handle"], author["external_id"])
    case_id = m["case_id"]
    assert any(e.get("case_id") == case_id for e in live), "no live event for the case"
    for e in live:
        orjson.dumps(e)  # what the stream sends
    shown = html.escape(author["display_name"], quote=False)
    page = browser.get(f"/cases/{case_id}")
    assert page.status_code == 200, page.text[-2000:]
    assert shown in page.text
    for path in (f"/cases/{case_id}/parts", f"/cases/{case_id}/answers"):
        r = browser.get(path)
        assert r.status_code == 200, (path, r.text[-2000:])
    row = browser.get(f"/inbox/row/{case_id}?queue=open&status=all")  # what the inbox fetches on a live event
    assert row.status_code == 200 and f'id="case-{case_id}"' in row.text, row.text[-2000:]
    contact = api.get(f"/api/v1/cases/{case_id}")
    assert contact.status_code == 200, contact.text
    contact = contact.json()["contact"]
    assert contact["display_name"] and api.get(f"/api/v1/contacts/{contact['id']}").status_code == 200
    assert html.escape(contact["display_name"], quote=False) in row.text


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_connectors_messages_show_with_every_optional_field_missing(kind, runtime, api, browser_for):
    items = recorded(kind)
    assert items, f"{kind}: no recorded message"
    key = f"rec-{kind}"
    with unit_of_work(runtime.session_factory) as s:
        add_channel(s, key, kind, f"Recorded {kind}", config=CASES[kind].config)
    plain = [i for i in items if not i.get("edited") and not i.get("deleted")]
    with unit_of_work(runtime.session_factory) as s:
        channel = s.scalar(select(Channel).where(Channel.key == key))
        result = accept_from_connector(s, channel, items + [minimal(i) for i in plain],
                                       runtime.settings.max_text_chars)
    assert not result.rejected, result.rejected
    live = processed(runtime)
    lee = browser_for("lee@acme.test")  # a coordinator: sees every case
    page = lee.get("/inbox?queue=open&status=all")
    assert page.status_code == 200, page.text[-2000:]
    for accepted in sorted({a["id"] for a in result.accepted}):
        check_shown(api, lee, accepted, live)


def test_the_apis_smallest_message_shows_everywhere(runtime, api, browser_for):
    """Only the required fields; then one whose author has a handle but no name (issue 10's report)."""
    smallest = {"channel": "mast", "external_id": "tiny-1", "author": {"external_id": "u-tiny"}}
    no_name = {"channel": "mast", "external_id": "evil-1", "author": {"external_id": "evil", "handle": "@evil"},
               "text": "hello"}
    r = api.post("/api/v1/messages", json={"messages": [smallest, no_name]})
    assert r.status_code == 202 and not r.json()["rejected"], r.text
    live = processed(runtime)
    sam = browser_for("sam@acme.test")  # a responder in Support, which leads these
    ids = [a["id"] for a in r.json()["accepted"]]
    for message_id in ids:
        check_shown(api, sam, message_id, live)
    tiny, evil = (api.get(f"/api/v1/messages/{i}").json() for i in ids)
    assert tiny["author"]["display_name"] == "u-tiny" and evil["author"]["display_name"] == "@evil"
    assert "@evil" in sam.get(f"/cases/{evil['case_id']}").text
    assert sam.get("/inbox").status_code == 200


@pytest.mark.parametrize(("author", "shown"), [
    ({"external_id": "id-1", "handle": "@h", "name": "Ana Lima"}, "Ana Lima"),
    ({"external_id": "id-1", "handle": "@h"}, "@h"),
    ({"external_id": "id-1", "handle": "@h", "name": None}, "@h"),
    ({"external_id": "id-1", "handle": "@h", "name": "   "}, "@h"),
    ({"external_id": "id-1", "handle": "\u200b", "name": "\u200d\ufeff"}, "id-1"),  # zero-width only
    ({"external_id": "id-1", "name": "\u3164"}, "id-1"),  # a Hangul filler: renders as nothing
    ({"external_id": "id-1", "name": "  Zoë  "}, "Zoë"),
    ({"external_id": "id-1", "name": "🦊"}, "🦊"),
    ({}, "Unknown"),
    (None, "Unknown"),
])
def test_display_name_falls_back_name_handle_id(author, shown):
    view = author_view(author)
    assert view["display_name"] == shown
    assert {"external_id", "handle", "name", "followers"} <= set(view) and view["followers"] == 0


def test_more_followers_than_a_database_integer_holds_is_processed(runtime, api):
    """10**30 followers used to be kept as 2**62, which PostgreSQL's integer column refused in processing: the
    message failed and never reached the inbox. It is kept as the most the column holds."""
    r = api.post("/api/v1/messages", json={"channel": "mast", "external_id": "big-1", "text": "broken",
                                           "author": {"external_id": "big", "followers": 10**30}})
    assert r.status_code == 202 and not r.json()["rejected"], r.text
    processed(runtime)
    m = api.get(f"/api/v1/messages/{r.json()['accepted'][0]['id']}").json()
    assert m["status"] == "processed", m["error"]
    assert api.get(f"/api/v1/contacts/{m['contact_id']}").json()["followers"] == 2**31 - 1


def test_only_web_links_to_the_message_are_shown(api, runtime, browser_for):
    """A message's `url` is free text from the platform: only http(s) becomes the "open" link."""
    r = api.post("/api/v1/messages", json={"messages": [
        {"channel": "mast", "external_id": "u-1", "author": {"external_id": "u"}, "text": "a",
         "url": "httpx://evil.example/1"},
        {"channel": "mast", "external_id": "u-2", "author": {"external_id": "u"}, "text": "b",
         "url": "https://social.example/@u/2"}]})
    assert r.status_code == 202 and not r.json()["rejected"], r.text
    processed(runtime)
    case_id = api.get(f"/api/v1/messages/{r.json()['accepted'][0]['id']}").json()["case_id"]
    page = browser_for("lee@acme.test").get(f"/cases/{case_id}").text
    assert 'href="https://social.example/@u/2"' in page and 'href="httpx://' not in page


@pytest.mark.parametrize(("name", "handle", "first"), [
    ("Ana Lima", "@ana", "Ana"), (None, "@ana", "ana"), ("   ", "@ana", "ana"), ("   ", None, "there"),
    ("\u200b \u200d", "", "there"), (None, None, "there"), ("  Zoë  Sky ", None, "Zoë")])
def test_answers_greet_a_customer_whatever_their_name(name, handle, first):
    from onevoice.auth.principal import SYSTEM
    from onevoice.library.service import variables_for

    values = variables_for({"contact": {"name": name, "handle": handle}}, SYSTEM)
    assert values["first_name"] == first
