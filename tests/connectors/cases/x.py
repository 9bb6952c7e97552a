from __future__ import annotations

from .base import NOW, Case, ErrorCase, Expect, fixture_json

API = r"https://api\.(twitter|x)\.com/2"
CONFIG = {
    "user_id": "1460112890912342016",
    "username": "AcmeHome",
    "consumer_key": "xvz1evFS4wEEPTGEFPHBog",
    "consumer_secret": "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    "access_token": "1460112890912342016-0rF3bYB5nZPSX1B7uj7lA8rX9Tf0hG",
    "access_token_secret": "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
}
MENTIONS = API + r"/users/1460112890912342016/mentions"


def setup_poll(t) -> None:
    t.add("GET", MENTIONS, json=fixture_json("x", "mentions.json"))


CASE = Case(
    kind="x",
    platform="x",
    config=CONFIG,
    bad_config={**CONFIG, "user_id": "@AcmeHome"},
    stack="requests",
    setup_poll=setup_poll,
    poll_expect=[
        Expect("1900555087632658555", "mention"),
        Expect("1900559713451245871", "comment", in_reply_to="1900512347021766935"),
        Expect("1900561822354587907", "mention", edited=True),
    ],
    poll_fixtures=["mentions.json"],
    route=("GET", MENTIONS),
    call=lambda c: c.poll("1900555087632658555"),
    rate_limited=ErrorCase(
        429,
        fixture_json("x", "error_429.json"),
        {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(NOW.timestamp()) + 600),
        },
        retry_after=600,
    ),
    expired=ErrorCase(401, fixture_json("x", "error_401.json")),
    server_error=ErrorCase(503, {"title": "Service Unavailable", "detail": "Service Unavailable", "status": 503}),
)
