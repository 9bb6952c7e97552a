"""A thin Graph API client over httpx, translating Meta's error objects into connector errors."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from onevoice.connectors.base import AuthExpired, ConnectorError, RateLimited
from onevoice.connectors.http_errors import error_for_status

# https://developers.facebook.com/docs/graph-api/guides/error-handling
AUTH_CODES = {190, 102}  # invalid/expired/revoked token, session
THROTTLE_CODES = {4, 17, 32, 613, *range(80001, 80015)}  # app, user, page, custom, business use case
TRANSIENT_CODES = {1, 2}  # "unknown" and "service temporarily unavailable"
DEFAULT_THROTTLE_WAIT = 60.0
USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-business-use-case-usage")


def usage_percent(headers: httpx.Headers) -> float:
    """The highest share (0-100) of any rate-limit budget Meta reports in its usage headers.

    X-App-Usage and X-Page-Usage hold {call_count, total_time, total_cputime}; X-Business-Use-Case-Usage
    holds lists of the same per business object. Meta throttles at 100, so polling stops well before.
    """
    highest = 0.0
    for name in USAGE_HEADERS:
        raw = headers.get(name)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        objects = [data] if name != "x-business-use-case-usage" else [
            item for items in (data.values() if isinstance(data, dict) else []) for item in items or []]
        for obj in objects:
            if isinstance(obj, dict):
                for key in ("call_count", "total_time", "total_cputime"):
                    with contextlib.suppress(TypeError, ValueError):
                        highest = max(highest, float(obj.get(key) or 0))
    return highest


def throttle_wait(headers: httpx.Headers) -> float:
    """Minutes-to-regain-access from X-Business-Use-Case-Usage, else a conservative minute."""
    raw = headers.get("x-business-use-case-usage")
    if raw:
        try:
            usage = json.loads(raw)
            minutes = [
                float(item.get("estimated_time_to_regain_access") or 0) for items in usage.values() for item in items
            ]
            if minutes and max(minutes) > 0:
                return max(minutes) * 60
        except (ValueError, AttributeError, TypeError):
            pass
    return DEFAULT_THROTTLE_WAIT


class ObjectGone(ConnectorError):
    """Graph code 100, subcode 33: the object does not exist (or this token may not see it)."""

    permanent = True


class GraphClient:
    def __init__(self, http: httpx.Client, base_url: str, version: str, token: str, now: Callable[[], datetime]):
        self.http = http
        self.base = f"{base_url.rstrip('/')}/{version}"
        self.token = token
        self.now = now
        self.usage = 0.0  # from the last answer's usage headers, see usage_percent

    def delete(self, path: str) -> dict:
        return self._call("DELETE", path)

    def get(self, path: str, token: str | None = None, **params: Any) -> dict:
        """`token` replaces the Page token for this call (the app token that debug_token takes)."""
        return self._call("GET", path, params=params, token=token)

    def post(self, path: str, **payload: Any) -> dict:
        return self._call("POST", path, json=payload)

    def _call(self, method: str, path: str, params: dict | None = None, json: dict | None = None,
              token: str | None = None) -> dict:
        # The token goes in a header, never in the URL: URLs end up in logs, proxies and error messages.
        headers = {"Authorization": f"Bearer {token or self.token}"}
        try:
            resp = self.http.request(method, f"{self.base}/{path.lstrip('/')}", params=params, json=json,
                                     headers=headers)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"Graph API unreachable: {exc}", permanent=False) from exc
        self.usage = usage_percent(resp.headers)
        try:
            data = resp.json()
        except ValueError:
            data = {}
        if resp.status_code < 400 and "error" not in data:
            return data
        raise self.error(resp, data)

    def error(self, resp: httpx.Response, data: Any) -> ConnectorError:
        err = data.get("error") if isinstance(data, dict) else None
        if not isinstance(err, dict):
            return error_for_status(resp.status_code, resp.headers, f"Graph API {resp.status_code}", self.now())
        code = err.get("code")
        message = f"Graph API: {err.get('message') or 'error'}"
        if code in AUTH_CODES:
            return AuthExpired(message, platform_code=code)
        if code in THROTTLE_CODES:
            return RateLimited(message, retry_after=throttle_wait(resp.headers), platform_code=code)
        if code == 100 and err.get("error_subcode") == 33:
            return ObjectGone(message, platform_code=code)
        if code in TRANSIENT_CODES or err.get("is_transient") or resp.status_code >= 500:
            return ConnectorError(message, permanent=False, platform_code=code)
        return ConnectorError(message, permanent=True, platform_code=code)
