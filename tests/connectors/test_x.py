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
