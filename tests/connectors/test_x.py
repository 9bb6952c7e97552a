from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from onevoice.connectors import registry

from .cases.base import NOW, fixture_json
from .cases.x import API, CONFIG, MENTIONS
from .transport import Transport


def build():
    return registry.build("x", CONFIG, now=lambda: NOW)


def test_poll_sends_since_id_and_follows_pagination() -> None:
    first = fixture_json("x", "mentions.json")
    first["meta"]["next_token"] = "7140dibdnow9c7btw3z2vwioavpvutgzrzm9icis4ndix"
    second = {"data": [], "meta": {"result_count": 0}}
    with Transport("requests") as t:
        t._responses.add("GET", re.compile(MENTIONS), json=first)
        t._responses.add("GET", re.compile(MENTIONS), json=second)
        msgs, cursor = build().poll("1900512347021766935")
        calls = t.calls
    q1, q2 = (parse_qs(urlparse(c.url).query) for c in calls)
    assert q1["since_id"] == ["1900512347021766935"] and "pagination_token" not in q1
    assert q2["pagination_token"] == ["7140dibdnow9c7btw3z2vwioavpvutgzrzm9icis4ndix"]
    assert set(q1["tweet.fields"][0].split(",")) >= {"created_at", "edit_history_tweet_ids", "referenced_tweets"}
    assert calls[0].headers["Authorization"].startswith("OAuth ")
    assert cursor == "1900563480186749122"
    assert len(msgs) == 3
    assert msgs[0]["author"] == {
        "external_id": "2244994945",
        "handle": "@priyabuilds",
        "name": "Priya N.",
        "followers": 5120,
    }


def test_empty_poll_keeps_the_cursor() -> None:
    with Transport("requests") as t:
        t.add("GET", MENTIONS, json=fixture_json("x", "mentions_empty.json"))
        assert build().poll("1900563480186749122") == ([], "1900563480186749122")


def test_reply_targets_the_latest_version_of_an_edited_tweet() -> None:
    edited = fixture_json("x", "mentions.json")["data"][0]
    with Transport("requests") as t:
        t.add("POST", API + r"/tweets$", 201, json=fixture_json("x", "create_tweet.json"))
        result = build().reply({"external_id": "1900561822354587907", "raw": edited}, "Sorry Priya!", "k1")
        body = t.calls[0].json()
    assert body == {"text": "Sorry Priya!", "reply": {"in_reply_to_tweet_id": "1900563480186749122"}}
    assert result.external_id == "1900567701235789824"
    assert result.url == "https://x.com/AcmeHome/status/1900567701235789824"


def test_check_names_the_account() -> None:
    with Transport("requests") as t:
        t.add("GET", API + r"/users/me", json=fixture_json("x", "users_me.json"))
        assert build().check()["detail"] == "connected as @AcmeHome"


DM_EVENTS = API + r"/dm_events"


def test_direct_messages_are_polled_back_to_the_cursor_without_our_own() -> None:
    page = fixture_json("x", "dm_events.json")
    older = {
        "data": [{"id": "1900563600000000000", "event_type": "MessageCreate", "text": "seen before",
                  "dm_conversation_id": "1460112890912342016-2244994945", "created_at": "2025-03-14T15:06:00.000Z",
                  "sender_id": "2244994945"}],
        "meta": {"result_count": 1, "next_token": "18LAA581J5II7LA00C00YYYY"},
    }
    empty = {"data": [], "meta": {"result_count": 0, "newest_id": None}}
    with Transport("requests") as t:
        t.add("GET", MENTIONS, json=empty)
        t._responses.add("GET", re.compile(DM_EVENTS), json=page)
        t._responses.add("GET", re.compile(DM_EVENTS), json=older)
        msgs, cursor = registry.build("x", {**CONFIG, "direct_messages": True}, now=lambda: NOW).poll(
            '{"dms": "1900563700000000000", "mentions": "1900563480186749122"}'
        )
        calls = t.calls
    dm_query = parse_qs(urlparse(next(c.url for c in calls if "dm_events" in c.url)).query)
    assert dm_query["event_types"] == ["MessageCreate"]
    # Two from the customer, oldest first; the account's own reply (sender = user_id) is left out.
    assert [(m["external_id"], m["kind"]) for m in msgs] == [
        ("1900563800011122233", "direct"),
        ("1900564000112233445", "direct"),
    ]
    assert msgs[1]["attachments"] == [
        {"type": "image", "url": page["includes"]["media"][0]["url"], "alt": None}
    ]
    assert msgs[0]["author"]["handle"] == "@priyabuilds"
    # The second page reaches the cursor, which ends the paging although X offers a next page.
    dm_calls = [c.url for c in calls if "dm_events" in c.url]
    assert len(dm_calls) == 2 and "pagination_token=18LAA581J5II7LA00C00ZZZZ" in dm_calls[1]
    assert cursor == '{"dms": "1900564000112233445", "mentions": "1900563480186749122"}'


def test_a_direct_message_is_answered_in_its_conversation() -> None:
    event = fixture_json("x", "dm_events.json")["data"][0]
    with Transport("requests") as t:
        t.add("POST", API + r"/dm_conversations/1460112890912342016-2244994945/messages",
              json=fixture_json("x", "create_dm.json"))
        parent = {"external_id": event["id"], "raw": event}
        result = build().reply(parent, "Thanks, we see it. Fix is rolling out.", "k1")
        (call,) = t.calls
    assert call.json() == {"text": "Thanks, we see it. Fix is rolling out."}
    assert result.external_id == "1900564800123456789"


def test_direct_messages_stay_off_unless_enabled() -> None:
    with Transport("requests") as t:
        t.add("GET", MENTIONS, json=fixture_json("x", "mentions_empty.json"))
        build().poll("1900563480186749122")
        assert not any("dm_events" in c.url for c in t.calls)
