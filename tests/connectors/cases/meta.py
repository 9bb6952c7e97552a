from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

from .base import IMAGE, Case, DeleteCase, ErrorCase, Expect, MediaCase, fixture_json

APP_SECRET = "3f1c0e6ab2d94c7e8f0a1b2c3d4e5f60"
GRAPH = r"https://graph\.facebook\.com/v21\.0"
CONFIG = {
    "app_secret": APP_SECRET,
    "verify_token": "onevoice-verify-7731",
    "page_access_token": "EAAGm0PX4ZCpsBAPageToken",
    "page_id": "104873926541280",
    "instagram_account_id": "17841405822304914",
}


def _sign(body: bytes, at: datetime) -> dict[str, str]:
    digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def _lookups(t) -> None:
    t.add(
        "GET", GRAPH + r"/17841405822304914\?.*mentioned_comment", json=fixture_json("meta", "mentioned_comment.json")
    )


def setup_poll(t) -> None:
    t.add("GET", GRAPH + r"/104873926541280/feed\?", json=fixture_json("meta", "graph_page_feed.json"))
    t.add("GET", GRAPH + rf"/{POST}/comments\?", json=fixture_json("meta", "graph_post_comments.json"))
    t.add("GET", GRAPH + r"/104873926541280/conversations\?.*platform=messenger",
          json=fixture_json("meta", "graph_conversations_messenger.json"))
    t.add("GET", GRAPH + r"/104873926541280/conversations\?.*platform=instagram",
          json=fixture_json("meta", "graph_conversations_instagram.json"))


def media_setup(t) -> None:
    t.add("POST", GRAPH + r"/104873926541280/photos", json=fixture_json("meta", "graph_photo_created.json"))


def media_check(calls, result) -> None:
    (call,) = [c for c in calls if c.url.startswith("https://graph.facebook.com")]
    body = call.json()
    # Meta fetches the image itself: one /photos call carrying the URL, the text and the alt text.
    sent = (body["url"], body["caption"], body["alt_text_custom"])
    assert sent == (IMAGE.url, "Our spring kettle is here.", IMAGE.alt)
    assert result.external_id == "104873926541280_1031122334455667"


DANA = "1029384756102938_893402716654321"
POST = "104873926541280_1029384756102938"
MID = "m_Fq3CLRt0cB1Kx9rJb2xq8w2RNoyd0VHYgH7dE3iUnx8rT5sIeQq8vA"
IG_POLLED = fixture_json("meta", "graph_conversations_instagram.json")["data"][0]["messages"]["data"][0]["id"]
IG_MID = fixture_json("meta", "instagram_messages.json")["entry"][0]["messaging"][0]["message"]["mid"]

CASE = Case(
    kind="meta",
    platform="meta",
    config=CONFIG,
    bad_config={**CONFIG, "page_id": None, "graph_version": "21"},
    webhooks={
        "page_feed_comment.json": [
            Expect(DANA, "comment", in_reply_to=POST),
            Expect("1029384756102938_1188203947561122", "comment", in_reply_to=DANA),
        ],
        "page_feed_edit_remove.json": [
            Expect(DANA, "comment", in_reply_to=POST, edited=True),
            Expect("1029384756102938_1188203947561122", "comment", in_reply_to=DANA, deleted=True),
        ],
        "messenger.json": [
            Expect(MID, "direct"),
            Expect(MID, "direct", edited=True),
            Expect("m_Gr4DMSu1dC2Ly0sKc3yr9x3SOpze1WIZhI8eF4jVoy9sU6tJfRr9wC", "direct", in_reply_to=MID),
        ],
        "instagram_comments.json": [
            Expect("17865799348089039", "comment", in_reply_to="18052915429031842"),
            Expect("17903355471004562", "comment", in_reply_to="17865799348089039"),
        ],
        "instagram_messages.json": [Expect(IG_MID, "direct"), Expect(IG_MID, "direct", deleted=True)],
        "instagram_mention.json": [Expect("17894227972186120", "mention", in_reply_to="17918195224117851")],
        "messenger_attachments.json": [
            Expect("m_Jt6FOUw3fE4Na2uMe5at1z5UQrBg3YKbjK0gH6lXqa1uW8vLhTt1yE", "direct", attachments=("image", "link"))
        ],
    },
    setup_poll=setup_poll,
    poll_expect=[
        Expect(DANA, "comment", in_reply_to=POST),
        Expect("1029384756102938_1190022334455667", "comment", in_reply_to=DANA, attachments=("image",)),
        Expect(MID, "direct"),
        Expect("m_Hs5ENTv2eD3Mz1tLd4zs0y4TPqAf2XJaiJ9fG5kWpz0tV7uKgSs0xD", "direct", attachments=("image",)),
        Expect(IG_POLLED, "direct"),
    ],
    poll_fixtures=[
        "graph_post_comments.json",
        "graph_conversations_messenger.json",
        "graph_conversations_instagram.json",
    ],
    delete=DeleteCase(
        route=("DELETE", GRAPH + r"/104873926541280_1031122334455667"),
        target="104873926541280_1031122334455667",
        ok=ErrorCase(200, fixture_json("meta", "graph_delete_success.json")),
        gone=ErrorCase(400, fixture_json("meta", "graph_error_object_gone.json")),
    ),
    media=MediaCase(media_setup, media_check, fetched_by_platform=True),
    sign=_sign,
    wrong_secret_config={"app_secret": "0" * 32},
    malformed=[
        b'{"object": "whatsapp_business_account", "entry": []}',
        b'{"object": "page"}',
        b'{"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed"}]}]}',
        b'{"object": "page", "entry": [{"id": "1", "messaging": [{"message": {"text": "no mid"}}]}]}',
    ],
    setup_webhook=_lookups,
    route=("POST", GRAPH + rf"/{DANA}/comments"),
    call=lambda c: c.reply(
        {"external_id": DANA, "raw": fixture_json("meta", "page_feed_comment.json")["entry"][0]["changes"][0]["value"]},
        "Sorry to hear that, Dana. We've sent you a message.",
        "outbox-1",
    ),
    rate_limited=ErrorCase(
        400,
        fixture_json("meta", "graph_error_rate_limit.json"),
        {
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    "104873926541280": [
                        {
                            "type": "pages",
                            "call_count": 100,
                            "total_cputime": 12,
                            "total_time": 14,
                            "estimated_time_to_regain_access": 5,
                        }
                    ]
                }
            )
        },
        retry_after=300,
    ),
    expired=ErrorCase(400, fixture_json("meta", "graph_error_190.json")),
    server_error=ErrorCase(
        500,
        {
            "error": {
                "message": "An unexpected error has occurred.",
                "type": "OAuthException",
                "code": 2,
                "is_transient": True,
                "fbtrace_id": "Ax1",
            }
        },
    ),
)
