"""A thin Graph API client over httpx, translating Meta's error objects into connector errors."""

from __future__ import annotations

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


class GraphClient:
    def __init__(self, http: httpx.Client, base_url: str, version: str, token: str, now: Callable[[], datetime]):
        self.http = http
        self.base = f"{base_url.rstrip('/')}/{version}"
        self.token = token
        self.now = now

    def get(self, path: str, **params: Any) -> dict:
        return self._call("GET", path, params=params)

    def post(self, path: str, **payload: Any) -> dict:
        return self._call("POST", path, json=payload)

    def _call(self, method: str, path: str, params: dict | None = None, json: dict | None = None) -> dict:
        params = {**(params or {})}
        params.setdefault("access_token", self.token)
        try:
            resp = self.http.request(method, f"{self.base}/{path.lstrip('/')}", params=params, json=json)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"Graph API unreachable: {exc}", permanent=False) from exc
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
        if code in TRANSIENT_CODES or err.get("is_transient") or resp.status_code >= 500:
            return ConnectorError(message, permanent=False, platform_code=code)
        return ConnectorError(message, permanent=True, platform_code=code)
