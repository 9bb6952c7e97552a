"""X with an OAuth 2.0 user token (what signing in from the Accounts page stores): calls sent with the token as
Bearer, and the token renewed with the refresh token before it expires (X's access tokens last two hours).

X rotates refresh tokens: each renewal returns a new one and the old one stops working, so the renewed
settings are handed back (`BaseConnector.renewed`) for the caller to store with the channel's secrets.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from onevoice.connectors.base import AuthExpired, ConnectorError

TOKEN_URL = "https://api.x.com/2/oauth2/token"
EARLY = 120  # seconds before expiry at which the token is renewed


class UserBearer:
    """tweepy's client called with an OAuth 2.0 user token: the same calls as with OAuth 1.0a keys, sent with
    the token as Bearer (tweepy's user_auth=False) instead of signed."""

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name: str):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            kwargs["user_auth"] = False
            return method(*args, **kwargs)

        return call


def due(expires_at: int | None, now: datetime) -> bool:
    return expires_at is not None and now.timestamp() >= expires_at - EARLY


def renew(http: httpx.Client, client_id: str, client_secret: str | None, refresh_token: str,
          now: datetime) -> dict:
    """New tokens for the refresh token: the settings to store (access and refresh token, expiry)."""
    auth = (client_id, client_secret) if client_secret else None
    try:
        response = http.post(TOKEN_URL, auth=auth, data={"grant_type": "refresh_token", "client_id": client_id,
                                                         "refresh_token": refresh_token})
    except httpx.HTTPError as exc:
        raise ConnectorError(f"X token renewal: {exc.__class__.__name__}", permanent=False) from None
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code in (400, 401) or (response.is_success and not data.get("access_token")):
        # invalid_grant: the refresh token was used already or revoked; a person must sign in again.
        detail = data.get("error_description") or data.get("error") or f"HTTP {response.status_code}"
        raise AuthExpired(f"X refused to renew the token: {detail}", platform_code=response.status_code)
    if not response.is_success:
        raise ConnectorError(f"X token renewal failed (HTTP {response.status_code})", permanent=False,
                             platform_code=response.status_code)
    return {"oauth2_access_token": data["access_token"],
            "oauth2_refresh_token": data.get("refresh_token") or refresh_token,
            "oauth2_expires_at": int(now.timestamp()) + int(data.get("expires_in") or 7200)}
