from __future__ import annotations

import pytest

from onevoice.connectors import registry
from onevoice.connectors.base import WebhookRequest

from .cases.base import NOW


def build(**cfg):
    return registry.build("sandbox", {"channel_key": "demo-x", **cfg}, now=lambda: NOW)


def test_reply_is_recorded_once_per_idempotency_key() -> None:
    c = build(channel_key="sbx-reply-test")
    parent = {"external_id": "sbx-1", "kind": "mention", "raw": {}}
    first = c.reply(parent, "Thanks, we're on it.", "k-1")
    again = c.reply(parent, "Thanks, we're on it.", "k-1")
    other = c.publish("New firmware is out", "k-2")
    assert first == again
    assert other.external_id != first.external_id
    assert [s["text"] for s in c.sent] == ["Thanks, we're on it.", "New firmware is out"]
    assert c.sent[0]["in_reply_to"] == "sbx-1"


def test_webhook_without_secret_accepts_intake_shaped_json() -> None:
    c = build()
    req = WebhookRequest.build(body=b'{"external_id": "a", "kind": "mention", "created_at": 0, "text": "hi"}')
    c.verify_webhook(req)
    [msg] = c.parse_webhook(req)
    assert msg["created_at"] == "1970-01-01T00:00:00+00:00"


def test_poll_wraps_the_demo_traffic_and_resumes_from_the_cursor() -> None:
    pytest.importorskip("onevoice.connectors.sandbox.traffic")
    c = build(seed=11, batch_size=4)
    first, cursor = c.poll(None)
    second, cursor2 = c.poll(cursor)
    assert (cursor, cursor2) == ("1", "2")
    assert len(first) == len(second) == 4
    # A fresh process given the stored cursor continues where the last one stopped.
    from onevoice.connectors.sandbox import connector as mod

    mod._GENERATORS.clear()
    again, _ = build(seed=11, batch_size=4).poll("1")
    assert again == second
    assert {m["external_id"] for m in first}.isdisjoint(m["external_id"] for m in second)


def test_simulated_customers_attach_photos_to_some_complaints() -> None:
    messages, _ = build(channel_key="sbx-photos", batch_size=200).poll(None)
    with_photo = [m for m in messages if m.get("attachments")]
    assert 0 < len(with_photo) < len(messages) // 4
    for m in with_photo:
        [photo] = m["attachments"]
        assert photo["type"] == "image" and photo["url"].startswith("https://sandbox.invalid/media/")
        assert photo["alt"] and m["in_reply_to"] is None
