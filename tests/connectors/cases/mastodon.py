from __future__ import annotations

from .base import Case, ErrorCase, Expect, fixture_json

API = r"https://mastodon\.example/api/v1"
CONFIG = {"api_base_url": "https://mastodon.example", "access_token": "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"}
LENA = "113987654321000001"


def setup_poll(t) -> None:
    t.add("GET", API + r"/notifications", json=fixture_json("mastodon", "notifications.json"))


CASE = Case(
    kind="mastodon",
    platform="mastodon",
    config=CONFIG,
    bad_config={"api_base_url": "not a url"},
    stack="requests",
    setup_poll=setup_poll,
    poll_expect=[
        Expect(LENA, "mention"),
        Expect("113987654321000007", "direct"),
        Expect(LENA, "mention", edited=True),
    ],
    poll_fixtures=["notifications.json"],
    route=("GET", API + r"/notifications"),
    call=lambda c: c.poll("87204"),
    rate_limited=ErrorCase(
        429,
        {"error": "Too many requests"},
        # Mastodon sends the reset as an ISO timestamp; NOW + 5 minutes.
        {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2025-03-14T15:14:26.000Z"},
        retry_after=300,
    ),
    expired=ErrorCase(401, {"error": "The access token was revoked"}),
    server_error=ErrorCase(502, {"error": "Bad gateway"}),
)
