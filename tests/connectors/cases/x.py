from __future__ import annotations

from .base import IMAGE, IMAGE_BYTES, NOW, Case, DeleteCase, ErrorCase, Expect, MediaCase, fixture_json

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


def media_setup(t) -> None:
    t.add("POST", r"https://api\.x\.com/2/media/upload", json=fixture_json("x", "media_upload.json"))
    t.add("POST", r"https://api\.x\.com/2/media/metadata", json=fixture_json("x", "media_metadata.json"))
    t.add("POST", API + r"/tweets", json=fixture_json("x", "create_tweet.json"))


def media_check(calls, result) -> None:
    upload = next(c for c in calls if c.url.endswith("/2/media/upload"))
    assert IMAGE_BYTES in upload.body and b"tweet_image" in upload.body
    auth = upload.headers["Authorization"]  # requests-oauthlib hands the header over as bytes
    assert (auth.decode() if isinstance(auth, bytes) else auth).startswith("OAuth "), "signed with the user tokens"
    alt = next(c for c in calls if c.url.endswith("/2/media/metadata")).json()
    assert alt == {"id": "1900564555667788990", "metadata": {"alt_text": {"text": IMAGE.alt}}}
    tweet = next(c for c in calls if c.url.endswith("/2/tweets")).json()
    assert tweet["media"] == {"media_ids": ["1900564555667788990"]}
    assert result.external_id == "1900567701235789824"


CASE = Case(
    kind="x",
    platform="x",
    config=CONFIG,
    bad_config={**CONFIG, "user_id": "@AcmeHome"},
    stack="requests",
    setup_poll=setup_poll,
    poll_expect=[
        Expect("1900555087632658555", "mention", attachments=("image",)),
        Expect("1900559713451245871", "comment", in_reply_to="1900512347021766935", attachments=("link",)),
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
    delete=DeleteCase(
        route=("DELETE", API + r"/tweets/1900564700001112223"),
        target="1900564700001112223",
        ok=ErrorCase(200, fixture_json("x", "delete_tweet.json")),
        gone=ErrorCase(404, fixture_json("x", "error_404.json")),
    ),
    media=MediaCase(media_setup, media_check),
)
