from __future__ import annotations

from .base import Case, DeleteCase, ErrorCase, Expect, fixture_json

OAUTH = r"https://oauth\.reddit\.com"
CONFIG = {
    "client_id": "p-jcoLKBynTLew",
    "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI",
    "username": "AcmeHomeSupport",
    "password": "correct horse battery staple",
    "subreddit": "AcmeHome",
}


def login(t) -> None:
    t.add("POST", r"https://www\.reddit\.com/api/v1/access_token", json=fixture_json("reddit", "access_token.json"))


def setup_poll(t) -> None:
    login(t)
    t.add("GET", OAUTH + r"/message/mentions", json=fixture_json("reddit", "mentions.json"))
    t.add("GET", OAUTH + r"/r/AcmeHome/comments", json=fixture_json("reddit", "subreddit_comments.json"))


CASE = Case(
    kind="reddit",
    platform="reddit",
    config=CONFIG,
    bad_config={**CONFIG, "subreddit": "r/AcmeHome"},
    stack="requests",
    setup_poll=setup_poll,
    poll_expect=[
        Expect("t1_mkp8h3c", "comment", in_reply_to="t3_1jaz9q2"),
        Expect("t1_mkq1a2b", "mention", in_reply_to="t1_mkq0zzz"),
        Expect("t1_mkq2x9v", "comment", in_reply_to="t1_mkq1r0s", deleted=True),
        Expect("t1_mkq4f7x", "mention", in_reply_to="t3_1jb2k3l"),
        Expect("t1_mkq5c1d", "comment", in_reply_to="t3_1jaz9q2", edited=True, attachments=("image",)),
    ],
    poll_fixtures=["mentions.json", "subreddit_comments.json"],
    prepare=login,
    route=("GET", OAUTH + r"/message/mentions"),
    call=lambda c: c.poll(None),
    rate_limited=ErrorCase(
        429,
        {"message": "Too Many Requests", "error": 429},
        {"x-ratelimit-used": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "412"},
        retry_after=412,
    ),
    expired=ErrorCase(
        401,
        {"message": "Unauthorized", "error": 401},
        {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
    ),
    server_error=ErrorCase(503, {"message": "Service Unavailable", "error": 503}),
    delete=DeleteCase(
        route=("POST", OAUTH + r"/api/del"),
        target="t1_mkq9z8y",
        # /api/del answers an empty object, for a thing that existed and for one already gone alike.
        ok=ErrorCase(200, {}),
        gone=ErrorCase(200, {}),
    ),
)
