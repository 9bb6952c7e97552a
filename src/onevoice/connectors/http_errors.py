"""Turning a platform's HTTP answer into the connector errors the outbox and poller act on."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime

from onevoice.connectors.base import AuthExpired, ConnectorError, RateLimited

# Header names platforms use to say when the rate-limit window resets (unix seconds or ISO 8601).
RESET_HEADERS = ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset")


def _get(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds to wait, from Retry-After (seconds or HTTP date) or a reset timestamp header."""
    value = _get(headers, "retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
            except (TypeError, ValueError):
                pass
    for name in RESET_HEADERS:
        value = _get(headers, name)
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            try:
                reset = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return max(0.0, (reset - now).total_seconds())
        # Small numbers are a delta (IETF RateLimit-Reset); large ones are a unix timestamp (X, Reddit).
        return number if number < 10**9 else max(0.0, number - now.timestamp())
    return None


def error_for_status(
    status: int, headers: Mapping[str, str], message: str, now: datetime, code: str | int | None = None
) -> ConnectorError:
    """The error class a status code means; callers raise it (platform-specific codes come first)."""
    if status == 429:
        return RateLimited(message, retry_after=retry_after(headers, now), platform_code=code or status)
    if status == 401:
        return AuthExpired(message, platform_code=code or status)
    if status >= 500 or status in (408, 425):
        return ConnectorError(
            message, permanent=False, retry_after=retry_after(headers, now), platform_code=code or status
        )
    return ConnectorError(message, permanent=True, platform_code=code or status)
