from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from onevoice.connectors import registry

from .cases.base import NOW, fixture_json
from .cases.mastodon import API, CONFIG
from .transport import Transport


def build():
    return registry.build("mastodon", CONFIG, now=lambda: NOW)


def notification(i: int) -> dict:
    return fixture_json("mastodon", "notifications.json")[i]


def test_poll_pages_forward_from_the_cursor_and_keeps_it_when_empty() -> None:
    with Transport("requests") as t:
        t.add("GET", API + r"/notifications", json=fixture_json("mastodon", "notifications_newer.json"))
        msgs, cursor = build().poll("87211")
        call = t.calls[0]
    query = parse_qs(urlparse(call.url).query)
    assert query["min_id"] == ["87211"] and query["limit"] == ["40"]
    assert set(query["types[]"]) == {"mention", "update"}
    assert call.headers["Authorization"] == f"Bearer {CONFIG['access_token']}"
    assert cursor == "87230"
    [msg] = msgs
    assert msg["in_reply_to"] == "113987654321000010"
    assert msg["text"] == "@acme thanks, the rollback worked!"
    with Transport("requests") as t:
        t.add("GET", API + r"/notifications", json=[])
        assert build().poll("87230") == ([], "87230")


def test_html_content_becomes_plain_text() -> None:
    with Transport("requests") as t:
        t.add("GET", API + r"/notifications", json=fixture_json("mastodon", "notifications.json"))
        msgs, _ = build().poll(None)
    first = msgs[0]
    assert first["text"] == "@acme the firmware update bricked my router & support is closed till Monday.\nAnyone else?"
    assert first["author"] == {
        "external_id": "110533012938471",
        "handle": "@lena@fosstodon.example",
        "name": "Lena Hart",
        "followers": 842,
    }
    assert first["url"] == "https://fosstodon.example/@lena/113987654321000001"


def test_reply_mentions_the_author_keeps_visibility_and_sends_the_idempotency_key() -> None:
    parent = {"external_id": "113987654321000007", "raw": notification(2)}  # the direct message
    with Transport("requests") as t:
        t.add("POST", API + r"/statuses", json=fixture_json("mastodon", "status_created.json"))
        result = build().reply(parent, "Sorry! We've opened a trace on order 55120.", "outbox-9")
        call = t.calls[0]
    assert call.headers["Idempotency-Key"] == "outbox-9"
    sent = parse_qs(call.body.decode()) if not call.body.startswith(b"{") else call.json()
    flat = {k: (v[0] if isinstance(v, list) else v) for k, v in sent.items()}
    assert flat["status"] == "@omar Sorry! We've opened a trace on order 55120."
    assert flat["in_reply_to_id"] == "113987654321000007"
    assert flat["visibility"] == "direct"
    assert result.external_id == "113987654321000010"
    assert result.url == "https://mastodon.example/@acme/113987654321000010"


def test_check_names_the_account_or_reports_revocation() -> None:
    with Transport("requests") as t:
        t.add("GET", API + r"/accounts/verify_credentials", json=fixture_json("mastodon", "verify_credentials.json"))
        assert build().check() == {"status": "connected", "detail": "connected as @acme", "expires_at": None}
    with Transport("requests") as t:
        t.add("GET", API + r"/accounts/verify_credentials", 401, json={"error": "The access token is invalid"})
        h = build().check()
    assert h["status"] == "revoked" and "invalid" in h["detail"]
