"""tweepy's v2 Client, returning plain JSON and never sleeping; its errors become connector errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import requests
import tweepy
from requests_oauthlib import OAuth1

from onevoice import egress
from onevoice.connectors.base import AuthExpired, ConnectorError, RateLimited
from onevoice.connectors.http_errors import error_for_status, retry_after


def make_client(consumer_key: str, consumer_secret: str, access_token: str, access_token_secret: str) -> tweepy.Client:
    # return_type=dict keeps X's JSON as sent (raw); wait_on_rate_limit=False lets the poller
    # reschedule instead of blocking a worker for up to 15 minutes.
    client = tweepy.Client(
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        access_token=access_token,
        access_token_secret=access_token_secret,
        return_type=dict,
        wait_on_rate_limit=False,
    )
    client.session = egress.session()  # every server-side request through the outbound guard
    return client


def make_bearer_client(user_access_token: str) -> tweepy.Client:
    """A client for an OAuth 2.0 (PKCE) user access token, sent as `Authorization: Bearer`."""
    client = tweepy.Client(bearer_token=user_access_token, return_type=dict, wait_on_rate_limit=False)
    client.session = egress.session()
    return client


@contextmanager
def errors(now: Callable[[], datetime]) -> Iterator[None]:
    try:
        yield
    except tweepy.TooManyRequests as exc:
        # x-rate-limit-reset is the epoch second the window reopens.
        raise RateLimited(
            f"X rate limit: {_detail(exc)}", retry_after=retry_after(exc.response.headers, now()), platform_code=429
        ) from exc
    except tweepy.Unauthorized as exc:
        raise AuthExpired(f"X rejected the tokens: {_detail(exc)}", platform_code=401) from exc
    except tweepy.TwitterServerError as exc:
        raise ConnectorError(
            f"X server error: {_detail(exc)}", permanent=False, platform_code=exc.response.status_code
        ) from exc
    except tweepy.HTTPException as exc:
        raise ConnectorError(
            f"X refused: {_detail(exc)}", permanent=True, platform_code=exc.response.status_code
        ) from exc
    except requests.RequestException as exc:
        raise ConnectorError(f"X unreachable: {exc}", permanent=False) from exc


def _detail(exc: tweepy.HTTPException) -> str:
    return "; ".join(exc.api_messages) or f"HTTP {exc.response.status_code}"


UPLOAD_URL = "https://api.x.com/2/media/upload"
METADATA_URL = "https://api.x.com/2/media/metadata"


def upload_image(keys: tuple[str, str, str, str], data: bytes, mime: str, filename: str, alt: str,
                 now: Callable[[], datetime]) -> str:
    """One-request image upload (API v2 /2/media/upload), then its alt text; the media id back.

    tweepy 4.x only wraps the v1.1 upload endpoint, which X retired for new uploads, so this is a plain
    signed request with the same OAuth 1.0a user tokens.
    """
    auth = OAuth1(keys[0], client_secret=keys[1], resource_owner_key=keys[2], resource_owner_secret=keys[3])
    body = _signed_post(auth, UPLOAD_URL, now, files={"media": (filename, data, mime)},
                        data={"media_category": "tweet_image"})
    media_id = str((body.get("data") or {}).get("id") or "")
    if not media_id:
        raise ConnectorError("X answered the upload without a media id", permanent=False)
    if alt:
        _signed_post(auth, METADATA_URL, now, json={"id": media_id, "metadata": {"alt_text": {"text": alt[:1000]}}})
    return media_id


def _signed_post(auth: OAuth1, url: str, now: Callable[[], datetime], **kwargs: object) -> dict:
    try:
        with egress.session() as http:
            resp = http.post(url, auth=auth, timeout=60, **kwargs)  # type: ignore[arg-type]
    except requests.RequestException as exc:
        raise ConnectorError(f"X unreachable: {exc}", permanent=False) from exc
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if resp.status_code >= 400:
        detail = body.get("detail") or body.get("title") if isinstance(body, dict) else None
        raise error_for_status(resp.status_code, resp.headers, f"X refused: {detail or resp.status_code}", now())
    return body if isinstance(body, dict) else {}
