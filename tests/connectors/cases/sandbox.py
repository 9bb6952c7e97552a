from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from .base import Case, Expect

SECRET = "sandbox-secret"


def _sign(body: bytes, at: datetime) -> dict[str, str]:
    return {"X-OneVoice-Signature": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


CASE = Case(
    kind="sandbox",
    platform="sandbox",
    config={"seed": 3, "channel_key": "demo-mastodon", "secret": SECRET},
    bad_config={"batch_size": -1},
    webhooks={"mention.json": [Expect("sbx-1001", "mention")]},
    sign=_sign,
    wrong_secret_config={"secret": "other"},
    malformed=[b'{"kind": "mention"}'],
)
