from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from onevoice.connectors import registry
from onevoice.connectors.base import PayloadError, SignatureError, WebhookRequest

from .cases.base import NOW, fixture_json
from .cases.meta import CONFIG, GRAPH
from .transport import Transport


def build(**extra):
    return registry.build("meta", {**CONFIG, **extra}, now=lambda: NOW)


def event(name: str, i: int = 0, key: str = "changes") -> dict:
    item = fixture_json("meta", name)["entry"][0][key][i]
    return item["value"] if key == "changes" else item


def test_handshake_echoes_the_challenge_only_for_our_verify_token() -> None:
    c = build()
    ok = c.handshake(
        WebhookRequest.build(
            "GET",
            query={"hub.mode": "subscribe", "hub.verify_token": "onevoice-verify-7731", "hub.challenge": "1158201444"},
        )
    )
    assert ok is not None and (ok.status, ok.body) == (200, "1158201444")
    bad = c.handshake(
        WebhookRequest.build("GET", query={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    )
    assert bad is not None and bad.status == 403
    assert c.handshake(WebhookRequest.build("POST", body=b"{}")) is None


def test_messenger_reply_answers_in_the_conversation() -> None:
    parent = {"external_id": "m_1", "raw": event("messenger.json", key="messaging")}
    with Transport("httpx") as t:
        t.add(
            "POST",
            GRAPH + r"/104873926541280/messages",
            json={"recipient_id": "6120498837265510", "message_id": "m_reply_1"},
        )
        result = build().reply(parent, "Sorry about that! Could you share the tracking number?", "k1")
        sent = t.calls[0]
    assert result.external_id == "m_reply_1"
    assert sent.json() == {
        "recipient": {"id": "6120498837265510"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Sorry about that! Could you share the tracking number?"},
    }
    # The Page token travels in the Authorization header, never in the URL (which httpx logs at INFO).
    assert "EAAGm0PX4ZCpsBAPageToken" not in sent.url
    assert sent.headers["authorization"] == "Bearer EAAGm0PX4ZCpsBAPageToken"


def test_instagram_comment_reply_uses_the_replies_edge() -> None:
    parent = {"external_id": "17865799348089039", "raw": event("instagram_comments.json")}
    with Transport("httpx") as t:
        t.add("POST", GRAPH + r"/17865799348089039/replies", json={"id": "17999000111222333"})
        result = build().reply(parent, "It does! Matte black ships next week.", "k2")
        assert t.calls[0].json() == {"message": "It does! Matte black ships next week."}
    assert result.external_id == "17999000111222333"


def test_instagram_mention_reply_goes_through_the_mentions_edge() -> None:
    parent = {"external_id": "17894227972186120", "raw": event("instagram_mention.json")}
    with Transport("httpx") as t:
        t.add("POST", GRAPH + r"/17841405822304914/mentions", json={"id": "17900001112223334"})
        build().reply(parent, "Glad it held up! 🏕️", "k3")
        assert t.calls[0].json() == {
            "media_id": "17918195224117851",
            "comment_id": "17894227972186120",
            "message": "Glad it held up! 🏕️",
        }


def test_mention_text_is_fetched_from_the_graph() -> None:
    body = json.dumps(fixture_json("meta", "instagram_mention.json")).encode()
    with Transport("httpx") as t:
        t.add("GET", GRAPH + r"/17841405822304914\?.*", json=fixture_json("meta", "mentioned_comment.json"))
        [msg] = build().parse_webhook(WebhookRequest.build(body=body))
    assert msg["text"].startswith("@acmehome your kettle survived")
    assert msg["author"]["handle"] == "trailmix.tom"
    assert msg["created_at"] == "2025-03-14T15:04:51+00:00"
    assert msg["url"] == "https://www.instagram.com/p/DHAk2xQp9Lm/"


def test_publish_posts_to_the_page_feed() -> None:
    with Transport("httpx") as t:
        t.add("POST", GRAPH + r"/104873926541280/feed", json={"id": "104873926541280_2233445566"})
        result = build().publish("Our spring range is here.", "k4")
    assert result.url == "https://www.facebook.com/104873926541280_2233445566"


def test_check_reports_expiring_and_revoked_tokens() -> None:
    c = build(app_id="1517776481860111")
    soon = int(NOW.timestamp()) + 3 * 86400
    with Transport("httpx") as t:
        t.add("GET", GRAPH + r"/debug_token.*", json={"data": {"is_valid": True, "expires_at": soon}})
        h = c.check()
    assert h["status"] == "expiring" and h["expires_at"].startswith("2025-03-17")
    with Transport("httpx") as t:
        t.add(
            "GET",
            GRAPH + r"/debug_token.*",
            json={
                "data": {
                    "is_valid": False,
                    "expires_at": 0,
                    "error": {"code": 190, "message": "The user has not authorized"},
                }
            },
        )
        assert c.check()["status"] == "revoked"
    with Transport("httpx") as t:
        t.add("GET", GRAPH + r"/me.*", status=400, json=fixture_json("meta", "graph_error_190.json"))
        h = build().check()
    assert h["status"] == "revoked" and "Session has expired" in h["detail"]


def test_catch_up_poll_stops_when_meta_reports_the_budget_nearly_spent() -> None:
    usage = {"X-App-Usage": json.dumps({"call_count": 86, "total_cputime": 12, "total_time": 20})}
    cursor = json.dumps({"feed": 1741860000, "messenger": 1741860000})
    with Transport("httpx") as t:
        t.add("GET", GRAPH + r"/104873926541280/feed\?", json=fixture_json("meta", "graph_page_feed.json"),
              headers=usage)
        msgs, after = build().poll(cursor)
        calls = t.calls
    # Nothing more is read this time, and no source's mark moves past what was not read.
    assert len(calls) == 1 and msgs == []
    assert json.loads(after) == json.loads(cursor)


def test_catch_up_poll_refuses_an_unreadable_cursor() -> None:
    with pytest.raises(PayloadError, match="Meta cursor"):
        build().poll('["feed"]')


def test_a_polled_comment_is_answered_in_its_thread() -> None:
    comment = fixture_json("meta", "graph_post_comments.json")["data"][0]
    with Transport("httpx") as t:
        t.add("POST", GRAPH + rf"/{comment['id']}/comments", json={"id": "1029384756102938_1190099988877766"})
        result = build().reply({"external_id": comment["id"], "raw": comment}, "Thanks Dana, that helps.", "k-2")
    assert result.external_id == "1029384756102938_1190099988877766"


def _signed(body: dict) -> WebhookRequest:
    raw = json.dumps(body).encode()
    digest = hmac.new(CONFIG["app_secret"].encode(), raw, hashlib.sha256).hexdigest()
    return WebhookRequest.build("POST", {"X-Hub-Signature-256": f"sha256={digest}"}, body=raw, received_at=NOW)


def test_a_replayed_delivery_older_than_the_window_is_refused() -> None:
    c = build()
    body = fixture_json("meta", "page_feed_comment.json")
    hours = lambda h: (NOW - timedelta(hours=h)).timestamp()  # noqa: E731
    body["entry"][0]["time"] = int(hours(47))                     # Meta still retrying: accepted
    c.verify_webhook(_signed(body))
    body["entry"][0]["time"] = int(hours(49))
    with pytest.raises(SignatureError, match="replay window"):
        c.verify_webhook(_signed(body))
    body["entry"][0]["time"] = int(hours(49) * 1000)              # Messenger's milliseconds read the same
    with pytest.raises(SignatureError, match="replay window"):
        c.verify_webhook(_signed(body))
    with pytest.raises(SignatureError, match="replay window"):
        build(replay_window_hours=12).verify_webhook(_signed({**body, "entry": [{**body["entry"][0],
                                                                                 "time": int(hours(13))}]}))
