from __future__ import annotations

from .base import IMAGE, IMAGE_BYTES, Case, DeleteCase, ErrorCase, Expect, MediaCase, fixture_json

API = r"https://mastodon\.example/api/v1"
CONFIG = {"api_base_url": "https://mastodon.example", "access_token": "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"}
LENA = "113987654321000001"


def setup_poll(t) -> None:
    t.add("GET", API + r"/notifications", json=fixture_json("mastodon", "notifications.json"))


def media_setup(t) -> None:
    t.add("POST", r"https://mastodon\.example/api/v2/media", json=fixture_json("mastodon", "media_uploaded.json"))
    t.add("POST", API + r"/statuses", json=fixture_json("mastodon", "status_created.json"))


def media_check(calls, result) -> None:
    upload = next(c for c in calls if c.url.endswith("/api/v2/media"))
    # multipart: the fetched bytes, and the alt text as the description
    assert IMAGE_BYTES in upload.body and IMAGE.alt.encode() in upload.body
    post = next(c for c in calls if c.url.endswith("/api/v1/statuses"))
    assert b"113988001122334455" in post.body, "the status carries the uploaded media id"
    assert result.external_id == fixture_json("mastodon", "status_created.json")["id"]


def deleted_status() -> dict:
    # DELETE answers with the deleted status and its source text (for "delete and redraft").
    return {**fixture_json("mastodon", "status_created.json"), "text": "@lena so sorry! Hold the reset button 10s."}


CASE = Case(
    kind="mastodon",
    platform="mastodon",
    config=CONFIG,
    bad_config={"api_base_url": "not a url"},
    stack="requests",
    setup_poll=setup_poll,
    poll_expect=[
        Expect(LENA, "mention"),
        Expect("113987654321000007", "direct", attachments=("image", "link")),
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
    delete=DeleteCase(
        route=("DELETE", API + r"/statuses/113988123456789012"),
        target="113988123456789012",
        ok=ErrorCase(200, deleted_status()),
        gone=ErrorCase(404, {"error": "Record not found"}),
    ),
    media=MediaCase(media_setup, media_check),
)
