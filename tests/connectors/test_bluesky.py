from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from onevoice.connectors import registry
from onevoice.connectors.bluesky import client as bsky_client

from .cases.base import NOW, fixture_json
from .cases.bluesky import CONFIG, XRPC, login, session
from .transport import Transport

NOTIFICATIONS = XRPC + r"/app\.bsky\.notification\.listNotifications"
CREATE = XRPC + r"/com\.atproto\.repo\.createRecord"


@pytest.fixture(autouse=True)
def no_cached_sessions():
    bsky_client.SESSIONS.clear()
    yield
    bsky_client.SESSIONS.clear()


def build():
    return registry.build("bluesky", CONFIG, now=lambda: NOW)


def notification(i: int) -> dict:
    return fixture_json("bluesky", "list_notifications.json")["notifications"][i]


def ref(strong: dict) -> dict:
    return {k: v for k, v in strong.items() if k != "$type"}  # the SDK tags refs with their lexicon type


def paths(t: Transport) -> list[str]:
    return [c.url.split("/xrpc/")[1].split("?")[0] for c in t.calls]


def test_reply_to_a_reply_keeps_the_thread_root_and_points_at_the_parent() -> None:
    deep = notification(1)  # Maya answering our answer to her original mention
    with Transport("httpx") as t:
        login(t)
        t.add("POST", CREATE, json=fixture_json("bluesky", "create_record.json"))
        result = build().reply({"external_id": deep["uri"], "raw": deep}, "Great to hear!", "k1")
        body = t.calls[-1].json()
    record = body["record"]
    assert body["repo"] == "did:plc:acme4k2hq7xw3vz6nqf5lb3r" and body["collection"] == "app.bsky.feed.post"
    assert record["text"] == "Great to hear!"
    assert ref(record["reply"]["root"]) == deep["record"]["reply"]["root"]
    assert ref(record["reply"]["parent"]) == {"uri": deep["uri"], "cid": deep["cid"]}
    assert result.url == "https://bsky.app/profile/acmehome.bsky.social/post/3lkbrh4xyzc2t"


def test_reply_to_a_top_level_mention_uses_it_as_root_and_parent() -> None:
    mention = notification(3)
    with Transport("httpx") as t:
        login(t)
        t.add("POST", CREATE, json=fixture_json("bluesky", "create_record.json"))
        build().reply({"raw": mention}, "Checking now.", "k2")
        reply = t.calls[-1].json()["record"]["reply"]
    assert ref(reply["root"]) == ref(reply["parent"]) == {"uri": mention["uri"], "cid": mention["cid"]}


def test_session_is_reused_and_refreshed_before_it_expires() -> None:
    with Transport("httpx") as t:
        t.add("POST", XRPC + r"/com\.atproto\.server\.createSession", json=session(timedelta(minutes=10)))
        t.add("POST", XRPC + r"/com\.atproto\.server\.refreshSession", json=session(timedelta(hours=2)))
        t.add("GET", NOTIFICATIONS, json={"notifications": []})
        build().poll(None)
        build().poll(None)
        called = paths(t)
    # One login for both polls; the 10-minute token is inside the SDK's 15-minute refresh margin.
    assert called.count("com.atproto.server.createSession") == 1
    assert called.count("com.atproto.server.refreshSession") == 1
    assert called.count("app.bsky.notification.listNotifications") == 2


def test_expired_access_token_is_refreshed_and_the_call_retried() -> None:
    expired = {"error": "ExpiredToken", "message": "Token has expired"}
    with Transport("httpx") as t:
        login(t)
        t.add("POST", XRPC + r"/com\.atproto\.server\.refreshSession", json=session())
        t._respx.route(method="GET", url__regex=NOTIFICATIONS).side_effect = [
            httpx.Response(400, json=expired),
            httpx.Response(200, json=fixture_json("bluesky", "list_notifications.json")),
        ]
        msgs, _ = build().poll(None)
        assert "com.atproto.server.refreshSession" in paths(t)
    assert len(msgs) == 3


def test_poll_returns_only_notifications_after_the_cursor() -> None:
    with Transport("httpx") as t:
        login(t)
        t.add("GET", NOTIFICATIONS, json=fixture_json("bluesky", "list_notifications.json"))
        msgs, cursor = build().poll("2025-03-14T14:58:12.540Z")
    assert [m["external_id"].rsplit("/", 1)[1] for m in msgs] == ["3lkbrf2pq7k2y"]
    assert cursor == "2025-03-14T15:06:00.412Z"  # the like moves the cursor even though it is no message


def test_revoked_app_password_reports_revoked() -> None:
    with Transport("httpx") as t:
        t.add(
            "POST",
            XRPC + r"/com\.atproto\.server\.createSession",
            401,
            json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
        )
        h = build().check()
    assert h["status"] == "revoked" and "Invalid identifier or password" in h["detail"]
