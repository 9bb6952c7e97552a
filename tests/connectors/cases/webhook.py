from __future__ import annotations

from datetime import datetime

from onevoice.connectors.webhook.connector import sign

from .base import IMAGE, Case, DeleteCase, ErrorCase, Expect, MediaCase

SECRET = "whsec-test-0123456789abcdef"


def _sign(body: bytes, at: datetime) -> dict[str, str]:
    ts = str(int(at.timestamp()))
    return {"X-OneVoice-Timestamp": ts, "X-OneVoice-Signature": sign(SECRET, ts, body)}


def media_setup(t) -> None:
    t.add("POST", r"https://hooks\.example\.com/onevoice", json={"id": "post-77", "url": "https://intranet.example/p/77"})


def media_check(calls, result) -> None:
    (call,) = [c for c in calls if c.url.startswith("https://hooks.example.com")]
    body = call.json()
    # The receiver gets the URLs to fetch, signed like every delivery.
    assert body["media"] == [{"url": IMAGE.url, "mime": IMAGE.mime, "alt": IMAGE.alt}]
    headers = {k.lower(): v for k, v in call.headers.items()}
    assert headers["x-onevoice-signature"] == sign(SECRET, headers["x-onevoice-timestamp"], call.body)
    assert result.external_id == "post-77"


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
    delete=DeleteCase(
        route=("POST", r"https://hooks\.example\.com/onevoice"),
        target="post-77",
        ok=ErrorCase(200, {"deleted": True}),
        gone=ErrorCase(404, {"error": "no such post"}),
    ),
    media=MediaCase(media_setup, media_check, fetched_by_platform=True),
)
