"""Mastodon.py configured for a worker: never sleeps on rate limits, keeps the raw JSON it received.

Mastodon.py turns responses into typed objects (datetimes, attribute dicts); OneVoice stores the
platform's payload verbatim, so a response hook keeps the last response and we map its JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from onevoice import egress
from onevoice.connectors.base import AuthExpired, ConnectorError, RateLimited
from onevoice.connectors.http_errors import retry_after


class NotFoundOnServer(ConnectorError):
    """404: the status (or account) does not exist, or no longer."""


class MastodonClient:
    def __init__(self, base_url: str, token: str, now: Callable[[], datetime], timeout: float = 20):
        self.now = now
        self.last: requests.Response | None = None
        session = egress.session()  # the server's URL is typed by a person: through the outbound guard
        session.hooks["response"].append(self._keep)
        # "throw": a worker must not block on a rate limit; the poller reschedules with retry_after.
        self.api = Mastodon(
            access_token=token,
            api_base_url=base_url,
            ratelimit_method="throw",
            # A stated version instead of a probe: no extra request, and media_post takes /api/v2/media
            # (asynchronous processing, Mastodon 3.1.4+), which every maintained server speaks.
            version_check_mode="created",
            mastodon_version="4.0.0",
            request_timeout=timeout,
            session=session,
        )

    def _keep(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        self.last = response

    def last_json(self) -> object:
        assert self.last is not None
        return self.last.json()

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Translate Mastodon.py's exceptions into connector errors."""
        try:
            yield
        except MastodonRatelimitError as exc:
            headers = self.last.headers if self.last is not None else {}
            raise RateLimited(
                f"Mastodon rate limit: {exc}", retry_after=retry_after(headers, self.now()), platform_code=429
            ) from exc
        except MastodonUnauthorizedError as exc:
            raise AuthExpired(f"Mastodon rejected the access token: {_detail(exc)}", platform_code=401) from exc
        except MastodonServerError as exc:
            raise ConnectorError(
                f"Mastodon server error: {_detail(exc)}", permanent=False, platform_code=_status(exc)
            ) from exc
        except MastodonNetworkError as exc:
            raise ConnectorError(f"Mastodon unreachable: {exc}", permanent=False) from exc
        except MastodonNotFoundError as exc:
            raise NotFoundOnServer(f"Mastodon: not found: {_detail(exc)}", permanent=True, platform_code=404) from exc
        except MastodonAPIError as exc:
            status = _status(exc)
            if status == 403:
                # Mastodon answers 403 when the token lacks a scope or the account is suspended.
                raise AuthExpired(f"Mastodon refused: {_detail(exc)}", platform_code=403) from exc
            raise ConnectorError(f"Mastodon error: {_detail(exc)}", permanent=True, platform_code=status) from exc


def _status(exc: Exception) -> int | None:
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None


def _detail(exc: Exception) -> str:
    return str(exc.args[3]) if len(exc.args) > 3 and exc.args[3] else str(exc)
