from __future__ import annotations

from datetime import datetime

from onevoice.connectors.webhook.connector import sign

from .base import Case, ErrorCase, Expect

SECRET = "whsec-test-0123456789abcdef"


def _sign(body: bytes, at: datetime) -> dict[str, str]:
    ts = str(int(at.timestamp()))
    return {"X-OneVoice-Timestamp": ts, "X-OneVoice-Signature": sign(SECRET, ts, body)}


CASE = Case(
    kind="webhook",
    platform="webhook",
    config={"secret": SECRET, "outbound_url": "https://hooks.example.com/onevoice"},
    bad_config={"secret": "short"},
    webhooks={
        "single.json": [Expect("ticket-8812", "direct")],
        "batch.json": [
            Expect("review-301", "review"),
            Expect("review-301", "review", edited=True),
            Expect("comment-9", "comment", in_reply_to="review-301", deleted=True),
        ],
    },
    sign=_sign,
    wrong_secret_config={"secret": "another-secret-0123456789"},
    replay_window=300,
    malformed=[b'{"text": "no id", "created_at": "2025-03-14T15:00:00Z"}', b"[]", b'{"messages": [42]}'],
    route=("POST", r"https://hooks\.example\.com/onevoice"),
    call=lambda c: c.publish("Hello", "key-1"),
    rate_limited=ErrorCase(429, {"error": "slow down"}, {"Retry-After": "30"}, retry_after=30),
    expired=ErrorCase(401, {"error": "bad credentials"}),
)
