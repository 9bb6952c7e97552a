"""tweepy's v2 Client, returning plain JSON and never sleeping; its errors become connector errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import requests
import tweepy

from onevoice.connectors.base import AuthExpired, ConnectorError, RateLimited
from onevoice.connectors.http_errors import retry_after


def make_client(consumer_key: str, consumer_secret: str, access_token: str, access_token_secret: str) -> tweepy.Client:
    # return_type=dict keeps X's JSON as sent (raw); wait_on_rate_limit=False lets the poller
    # reschedule instead of blocking a worker for up to 15 minutes.
    return tweepy.Client(
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        access_token=access_token,
        access_token_secret=access_token_secret,
        return_type=dict,
        wait_on_rate_limit=False,
    )


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
