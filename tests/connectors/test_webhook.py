from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from onevoice.connectors import registry
from onevoice.connectors.base import Capability, SignatureError, WebhookRequest
from onevoice.connectors.webhook.connector import sign

from .cases.base import NOW
from .cases.webhook import SECRET
from .transport import Transport


def build(**extra):
    cfg = {"secret": SECRET, "outbound_url": "https://hooks.example.com/onevoice", **extra}
    return registry.build("webhook", cfg, now=lambda: NOW)


def test_reply_posts_signed_json_with_idempotency_key() -> None:
    parent = {"external_id": "ticket-8812", "author": {"external_id": "cust-551"}, "raw": {}}
    with Transport("httpx") as t:
        t.add("POST", r"https://hooks\.example\.com/onevoice", 201, json={"id": "out-1", "url": "https://h/1"})
        result = build().reply(parent, "We're sending a replacement today.", "outbox-42")
        call = t.calls[0]
    assert (result.external_id, result.url) == ("out-1", "https://h/1")
    assert call.headers["idempotency-key"] == "outbox-42"
    payload = call.json()
    assert payload == {
        "type": "reply",
        "in_reply_to": "ticket-8812",
        "to": "cust-551",
        "text": "We're sending a replacement today.",
        "idempotency_key": "outbox-42",
    }
    ts = call.headers["x-onevoice-timestamp"]
    assert ts == str(int(NOW.timestamp()))
    expected = hmac.new(SECRET.encode(), f"{ts}.".encode() + call.body, hashlib.sha256).hexdigest()
    assert call.headers["x-onevoice-signature"] == f"sha256={expected}"


def test_publish_without_a_response_body_uses_the_key_as_id() -> None:
    with Transport("httpx") as t:
        t.add("POST", r"https://hooks\.example\.com/onevoice", 204)
        result = build().publish("Spring sale starts Monday", "outbox-43")
        assert json.loads(t.calls[0].body)["type"] == "post"
    assert result.external_id == "webhook:outbox-43"


def test_inbound_only_channel_refuses_to_send_permanently() -> None:
    c = registry.build("webhook", {"secret": SECRET})
    assert Capability.REPLY in c.capabilities
    try:
        c.publish("x", "k")
    except Exception as exc:  # noqa: BLE001 - asserting on the exact class below
        assert exc.permanent and "outbound_url" in str(exc)
    else:
        raise AssertionError("expected a ConnectorError")


def test_settings_fields_describe_the_config_keys() -> None:
    fields = {f["name"]: f for f in registry.settings_fields("webhook")}
    assert fields["secret"]["required"] and fields["secret"]["secret"]
    assert not fields["outbound_url"]["required"]
    assert fields["tolerance_seconds"]["default"] == 300


@pytest.mark.parametrize("ts", ["nan", "NaN", "inf", "-inf", "1e9", "1_741_964_966", " 1741964966",
                                "9" * 400,
                                "0x67d44c66", "-1741964966", ""])
def test_a_delivery_signed_with_a_timestamp_that_is_not_unix_seconds_is_refused(ts) -> None:
    """The attack: a delivery captured once, signed with "nan", would pass the replay window for ever."""
    body = b'{"messages": []}'
    req = WebhookRequest.build(headers={"X-OneVoice-Timestamp": ts, "X-OneVoice-Signature": sign(SECRET, ts, body)},
                               body=body, received_at=NOW)
    with pytest.raises(SignatureError):
        build().verify_webhook(req)
    fresh = str(int(NOW.timestamp()))
    for ok in (fresh, fresh + ".25"):
        build().verify_webhook(WebhookRequest.build(
            headers={"X-OneVoice-Timestamp": ok, "X-OneVoice-Signature": sign(SECRET, ok, body)}, body=body,
            received_at=NOW))
