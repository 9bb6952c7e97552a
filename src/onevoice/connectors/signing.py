"""Webhook signature checks shared by connectors: HMAC-SHA256, constant-time, with a replay window."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from datetime import datetime

from onevoice.connectors.base import SignatureError


def hmac_sha256_hex(secret: str | bytes, payload: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def require_signature(expected_hex: str, provided: str | None, prefix: str = "sha256=") -> None:
    """Raise SignatureError unless `provided` (e.g. 'sha256=<hex>') matches, compared in constant time."""
    if not provided:
        raise SignatureError("missing signature header")
    value = provided.strip()
    if prefix and value.lower().startswith(prefix):
        value = value[len(prefix) :]
    # compare_digest on equal-type strings leaks no timing about where they differ.
    if not hmac.compare_digest(expected_hex.lower(), value.lower()):
        raise SignatureError("signature mismatch")


# Unix seconds as a sender writes them: digits, optionally a fraction. float() alone would also take "nan"
# (which compares false with everything, so it passed the window check), "inf", "1e9", "1_700_000_000",
# surrounding spaces and non-ASCII digits.
TIMESTAMP = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")


def require_fresh(timestamp: str | None, now: datetime, window_seconds: float) -> float:
    """Reject a missing timestamp, one that is not plain unix seconds, or one outside ±window of now
    (a replayed or forged delivery)."""
    if not timestamp:
        raise SignatureError("missing timestamp header")
    if not TIMESTAMP.fullmatch(timestamp):
        raise SignatureError(f"unreadable timestamp {timestamp[:40]!r}: send unix seconds")
    ts = float(timestamp)
    if not math.isfinite(ts) or abs(now.timestamp() - ts) > window_seconds:
        raise SignatureError("timestamp outside the replay window")
    return ts
