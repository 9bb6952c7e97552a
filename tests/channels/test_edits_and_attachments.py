"""Edits, deletions and attachments from connectors: applied to the stored message, kept for the record,
shown (escaped, as links) in the case conversation."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onevoice.app import create_app
from onevoice.channels.models import Channel, InboundFailure
from onevoice.channels.service import add_channel
from onevoice.connectors.base import attachment, inbound
from onevoice.connectors.webhook.connector import sign
from onevoice.db import unit_of_work
from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.pipeline.inbound import accept_from_connector
from onevoice.worker.runner import EmbeddedWorker
from tests.factories import seed_org
from tests.scripted_triage import scripted_runtime
from tests.web.helpers import seed_people, sign_in

pytestmark = pytest.mark.both_databases
SECRET = "s3cret-for-webhooks-123"


@pytest.fixture
def runtime(settings):
    runtime = scripted_runtime(settings)
    seed_org(runtime.session_factory)
    seed_people(runtime.session_factory)
    with unit_of_work(runtime.session_factory) as s:
        add_channel(s, "hook", "webhook", config={"secret": SECRET},
                    secret_key=runtime.settings.secret_key.get_secret_value())
    yield runtime
    runtime.dispose()


def _item(external_id: str, text: str, **extra) -> dict:
    return inbound(external_id=external_id, kind="mention", text=text, created_at="2026-11-20T10:00:00Z",
                   author={"external_id": "a1", "handle": "@ana", "name": "Ana"}, raw={"id": external_id}, **extra)


def _accept(runtime, items: list[dict]):
    with unit_of_work(runtime.session_factory) as s:
        channel = s.scalar(select(Channel).where(Channel.key == "hook"))
        return accept_from_connector(s, channel, items, 40_000)


def _message(s, external_id: str) -> Message:
    return s.scalar(select(Message).where(Message.external_id == external_id))


def test_edit_replaces_text_keeps_the_before_and_marks_it(runtime):
    _accept(runtime, [_item("m1", "my order never arrived")])
    result = _accept(runtime, [_item("m1", "my order never arrived, order 5521", edited=True)])
    assert result.new_ids == []
    again = _accept(runtime, [_item("m1", "my order never arrived, order 5521", edited=True)])
    assert again.new_ids == []
    with runtime.session_factory() as s:
        m = _message(s, "m1")
        assert m.text == "my order never arrived, order 5521" and m.edited_at is not None and m.deleted_at is None
        events = s.scalars(select(Event).where(Event.message_id == m.id, Event.kind == "message.edited")).all()
        assert [e.data["text_before"] for e in events] == ["my order never arrived"], "a redelivery adds nothing"


def test_delete_keeps_the_text_and_marks_it_once(runtime):
    _accept(runtime, [_item("m2", "you are all crooks")])
    _accept(runtime, [_item("m2", "", deleted=True)])
    _accept(runtime, [_item("m2", "", deleted=True)])
    with runtime.session_factory() as s:
        m = _message(s, "m2")
        assert m.text == "you are all crooks" and m.deleted_at is not None
        kinds = s.scalars(select(Event.kind).where(Event.message_id == m.id)).all()
        assert kinds.count("message.deleted_on_platform") == 1


def test_a_post_and_its_edit_in_one_batch_become_one_edited_message(runtime):
    # Mastodon's notifications page holds the mention and its later "update" together.
    result = _accept(runtime, [_item("m3", "first words"), _item("m3", "second words", edited=True)])
    assert len(result.new_ids) == 1
    # Out of order in one batch: the edit first, then the original.
    _accept(runtime, [_item("m4", "later words", edited=True), _item("m4", "earlier words")])
    with runtime.session_factory() as s:
        m3, m4 = _message(s, "m3"), _message(s, "m4")
        assert (m3.text, m3.edited_at is not None) == ("second words", True)
        assert (m4.text, m4.edited_at is not None) == ("later words", True)


def test_deletion_of_a_message_never_seen_is_recorded_but_not_triaged(runtime):
    result = _accept(runtime, [_item("m5", "", deleted=True)])
    assert len(result.new_ids) == 1
    with runtime.session_factory() as s:
        m = _message(s, "m5")
        assert m.deleted_at is not None and m.status == "processed" and m.case_id is None


def test_bad_attachments_are_refused_with_a_reason(runtime):
    bad = {**_item("m6", "look"), "attachments": [{"type": "image", "url": "javascript:alert(1)"}]}
    result = _accept(runtime, [bad, _item("m7", "fine")])
    assert [r["error"] for r in result.rejected] == [
        "attachment #0: 'url' must be an http(s) link of at most 2000 characters"]
    assert len(result.new_ids) == 1, "the valid message in the batch is kept"
    assert attachment("image", "data:image/png;base64,AAAA") is None, "connectors drop non-web links"


def _signed(body: bytes) -> dict:
    ts = int(time.time())
    return {"X-OneVoice-Timestamp": str(ts), "X-OneVoice-Signature": sign(SECRET, ts, body)}


def test_case_conversation_shows_attachments_as_escaped_links_and_the_marks(runtime):
    app = create_app(runtime.settings, runtime=runtime, start_worker=False)
    first = {"external_id": "w1", "kind": "mention", "text": "my kettle arrived broken, see photo",
             "author": {"external_id": "c9", "handle": "@kim", "name": "Kim"}, "created_at": "2026-11-20T10:00:00Z",
             "attachments": [{"type": "image", "url": "https://cdn.example/k.jpg?a=1&b=2",
                              "alt": "<script>alert(1)</script> cracked lid"},
                             {"type": "link", "url": "https://shop.example/order/5521"}]}
    second = {**first, "external_id": "w2", "text": "and the lid too, broken", "attachments": []}
    with TestClient(app) as c:
        for body in (json.dumps(first).encode(), json.dumps(second).encode()):
            assert c.post("/webhooks/hook", content=body, headers=_signed(body)).status_code == 200
        EmbeddedWorker(runtime.processor, runtime.session_factory, runtime.broker.publish,
                       ingest=runtime.ingest).drain(timeout=60)
        for change in ({**first, "text": "my kettle arrived broken (order 5521)", "edited": True},
                       {**second, "deleted": True}):
            body = json.dumps(change).encode()
            assert c.post("/webhooks/hook", content=body, headers=_signed(body)).status_code == 200
        runtime.ingest()  # the intake journal's deliveries, as the worker stores them (SQLite)
        with runtime.session_factory() as s:
            case_id = _message(s, "w1").case_id
            assert case_id is not None and _message(s, "w2").case_id == case_id
        assert sign_in(c, "lee@acme.test").status_code == 303
        page = c.get(f"/cases/{case_id}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; cracked lid" in page
    assert 'href="https://cdn.example/k.jpg?a=1&amp;b=2"' in page and "<img" not in page.split("conversation")[1]
    assert 'href="https://shop.example/order/5521"' in page
    assert "my kettle arrived broken (order 5521)" in page and "edited by the author" in page
    assert "and the lid too, broken" in page, "a deleted message's text is kept"
    assert "deleted on hook; kept for the record" in page


@pytest.mark.sqlite_only
def test_journaled_deliveries_keep_a_refused_item_with_its_own_delivery_and_fold_edits_across_them(runtime):
    """The worker stores many journaled deliveries in one transaction (SQLite's intake journal); a refused item is
    kept as an inbound failure with the body of the delivery that carried it, and an edit delivered after the
    post in the same pass is applied to it."""
    assert runtime.journal is not None, "the embedded default (SQLite, no Redis) journals webhook deliveries"
    bad = {**_item("j1", "look"), "attachments": [{"type": "image", "url": "javascript:alert(1)"}]}
    bodies = [json.dumps({"messages": [_item("j0", "first")]}).encode(),
              json.dumps({"messages": [bad, _item("j2", "my kettle broke")]}).encode(),
              json.dumps({"messages": [{**_item("j2", "my kettle broke (order 55)"), "edited": True}]}).encode()]
    with TestClient(create_app(runtime.settings, runtime=runtime, start_worker=False)) as c:
        for body in bodies:
            assert c.post("/webhooks/hook", content=body, headers=_signed(body)).status_code == 200
    assert len(runtime.ingest()) == 2  # j0 and j2; j1 refused
    with runtime.session_factory() as s:
        failures = list(s.scalars(select(InboundFailure)))
        assert [f.body for f in failures] == [bodies[1].decode()]
        assert "must be an http(s) link" in failures[0].error
        edited = _message(s, "j2")
        assert edited.text == "my kettle broke (order 55)" and edited.edited_at is not None
        assert _message(s, "j1") is None
