from __future__ import annotations

import base64
import json
from datetime import timedelta

from .base import IMAGE, IMAGE_BYTES, NOW, Case, DeleteCase, ErrorCase, Expect, MediaCase, fixture_json

XRPC = r"https://bsky\.social/xrpc"
DID = "did:plc:acme4k2hq7xw3vz6nqf5lb3r"
CONFIG = {"handle": "acmehome.bsky.social", "app_password": "abcd-efgh-ijkl-mnop"}


def jwt(scope: str, expires_in: timedelta) -> str:
    """A token shaped like the PDS's (the SDK reads `exp`; nobody checks the signature here)."""

    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    payload = {
        "scope": scope,
        "sub": DID,
        "aud": "did:web:bsky.social",
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + expires_in).timestamp()),
    }
    return f"{b64({'typ': 'at+jwt', 'alg': 'ES256K'})}.{b64(payload)}.c2lnbmF0dXJl"


def session(access_in: timedelta = timedelta(hours=2)) -> dict:
    return {
        "did": DID,
        "handle": "acmehome.bsky.social",
        "email": "social@acme.example",
        "emailConfirmed": True,
        "active": True,
        "accessJwt": jwt("com.atproto.appPass", access_in),
        "refreshJwt": jwt("com.atproto.refresh", timedelta(days=90)),
    }


def login(t) -> None:
    t.add("POST", XRPC + r"/com\.atproto\.server\.createSession", json=session())


def setup_poll(t) -> None:
    login(t)
    t.add(
        "GET",
        XRPC + r"/app\.bsky\.notification\.listNotifications",
        json=fixture_json("bluesky", "list_notifications.json"),
    )


def media_setup(t) -> None:
    t.add("POST", XRPC + r"/com\.atproto\.repo\.uploadBlob", json=fixture_json("bluesky", "upload_blob.json"))
    t.add("POST", XRPC + r"/com\.atproto\.repo\.createRecord", json=fixture_json("bluesky", "create_record.json"))


def media_check(calls, result) -> None:
    upload = next(c for c in calls if c.url.endswith("uploadBlob"))
    assert upload.body == IMAGE_BYTES
    record = next(c for c in calls if c.url.endswith("createRecord")).json()["record"]
    image = record["embed"]["images"][0]
    assert record["embed"]["$type"] == "app.bsky.embed.images" and image["alt"] == IMAGE.alt
    assert image["image"]["ref"]["$link"] == fixture_json("bluesky", "upload_blob.json")["blob"]["ref"]["$link"]
    assert result.external_id == fixture_json("bluesky", "create_record.json")["uri"]


MAYA = "at://did:plc:maya7v3k2l5x9q0w1e4r6t8y/app.bsky.feed.post/3lkbr5tq4jc2k"
CASE = Case(
    kind="bluesky",
    platform="bluesky",
    config=CONFIG,
    bad_config={"handle": "acmehome.bsky.social"},
    setup_poll=setup_poll,
    poll_expect=[
        Expect(MAYA, "mention", attachments=("image",)),
        Expect(
            "at://did:plc:raj2m4n6b8v0c1x3z5a7s9d/app.bsky.feed.post/3lkbrb6wk2s2n",
            "comment",
            in_reply_to=f"at://{DID}/app.bsky.feed.post/3lkbq2xh7ms2c",
            attachments=("link",),
        ),
        Expect(
            "at://did:plc:maya7v3k2l5x9q0w1e4r6t8y/app.bsky.feed.post/3lkbrf2pq7k2y",
            "comment",
            in_reply_to=f"at://{DID}/app.bsky.feed.post/3lkbrd3mnbc2x",
        ),
    ],
    poll_fixtures=["list_notifications.json"],
    prepare=login,
    route=("GET", XRPC + r"/app\.bsky\.notification\.listNotifications"),
    call=lambda c: c.poll(None),
    rate_limited=ErrorCase(
        429,
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "0",
            "ratelimit-policy": "3000;w=300",
            "ratelimit-reset": str(int(NOW.timestamp()) + 120),
        },
        retry_after=120,
    ),
    expired=ErrorCase(401, {"error": "AuthenticationRequired", "message": "Token has been revoked"}),
    server_error=ErrorCase(503, {"error": "InternalServerError", "message": "upstream unavailable"}),
    delete=DeleteCase(
        route=("POST", XRPC + r"/com\.atproto\.repo\.deleteRecord"),
        target=f"at://{DID}/app.bsky.feed.post/3lkbrh4xyzc2t",
        ok=ErrorCase(200, fixture_json("bluesky", "delete_record.json")),
        # The PDS treats deleting a record that is not there as done: 200 without a commit.
        gone=ErrorCase(200, {}),
    ),
    media=MediaCase(media_setup, media_check),
)
