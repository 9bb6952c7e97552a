from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from onevoice.connectors import registry
from onevoice.connectors.base import RateLimited

from .cases.base import NOW, fixture_json
from .cases.reddit import CONFIG, OAUTH, login, setup_poll
from .transport import Transport


def build(**extra):
    return registry.build("reddit", {**CONFIG, **extra}, now=lambda: NOW)


def test_cursor_skips_what_was_seen_and_only_advances() -> None:
    with Transport("requests") as t:
        setup_poll(t)
        _, cursor = build().poll(None)
    assert json.loads(cursor) == {"comments": 1741964111.0, "mentions": 1741964030.0}
    with Transport("requests") as t:
        setup_poll(t)
        again, cursor2 = build().poll(cursor)
    # Only the newest item of each source comes back (at its exact time); intake absorbs the repeat.
    assert [m["external_id"] for m in again] == ["t1_mkq4f7x", "t1_mkq5c1d"]
    assert cursor2 == cursor


def test_mentions_only_without_a_subreddit() -> None:
    with Transport("requests") as t:
        setup_poll(t)
        msgs, _ = build(subreddit=None).poll(None)
        assert not any("/r/AcmeHome/comments" in c.url for c in t.calls)
    assert {m["kind"] for m in msgs} == {"mention"}
    assert msgs[-1]["url"] == "https://www.reddit.com/r/homenetworking/comments/1jb2k3l/acme_n300_after_update/mkq4f7x/"


def test_reply_posts_a_comment_on_the_parent_thing() -> None:
    parent = {
        "external_id": "t1_mkq4f7x",
        "raw": fixture_json("reddit", "mentions.json")["data"]["children"][0]["data"],
    }
    with Transport("requests") as t:
        login(t)
        t.add("POST", OAUTH + r"/api/comment", json=fixture_json("reddit", "comment_created.json"))
        result = build().reply(parent, "Sorry about that! A fixed 4.2.1 is rolling out tonight.", "k1")
        form = parse_qs(t.calls[-1].body.decode())
        assert t.calls[-1].headers["Authorization"].startswith("bearer ")
    assert form["thing_id"] == ["t1_mkq4f7x"] and form["api_type"] == ["json"]
    assert result.external_id == "t1_mkq7z2a"
    assert result.url == "https://www.reddit.com/r/AcmeHome/comments/1jb2k3l/megathread_spring_update/mkq7z2a/"


def test_ratelimit_error_in_the_body_becomes_rate_limited() -> None:
    parent = {"external_id": "t1_mkq4f7x", "raw": {"name": "t1_mkq4f7x"}}
    with Transport("requests") as t:
        login(t)
        t.add("POST", OAUTH + r"/api/comment", json=fixture_json("reddit", "comment_ratelimit.json"))
        with pytest.raises(RateLimited) as err:
            build().reply(parent, "hi", "k2")
    assert err.value.retry_after == 9 * 60


def test_bad_password_reports_revoked() -> None:
    with Transport("requests") as t:
        t.add("POST", r"https://www\.reddit\.com/api/v1/access_token", json={"error": "invalid_grant"})
        h = build().check()
    assert h["status"] == "revoked" and "invalid_grant" in h["detail"]


def test_check_names_the_account() -> None:
    with Transport("requests") as t:
        login(t)
        t.add("GET", OAUTH + r"/api/v1/me", json=fixture_json("reddit", "me.json"))
        assert build().check()["detail"] == "connected as u/AcmeHomeSupport"
