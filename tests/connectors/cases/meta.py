from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

from .base import Case, ErrorCase, Expect, fixture_json

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


DANA = "1029384756102938_893402716654321"
POST = "104873926541280_1029384756102938"
MID = "m_Fq3CLRt0cB1Kx9rJb2xq8w2RNoyd0VHYgH7dE3iUnx8rT5sIeQq8vA"
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
    },
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
