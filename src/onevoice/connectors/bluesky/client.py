"""The atproto SDK wired for a worker: our httpx client, our clock, raw JSON kept, sessions reused.

Bluesky rate-limits createSession hard, so one session per account is kept per process and refreshed
(refreshSession) before the access token expires; only when the refresh token is dead do we log in
again with the app password.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
from atproto import Client
from atproto_client import exceptions as atx
from atproto_client.request import Request

from onevoice.connectors.base import AuthExpired, ConnectorError, RateLimited
from onevoice.connectors.http_errors import retry_after

# (service, handle, digest of the app password) -> exported session string; shared by every connector instance
# in the process. The password is part of the key: a new app password (a reconnect) never reuses the session
# that the old one opened.
SESSIONS: dict[tuple[str, str, str], str] = {}
_LOCK = threading.Lock()


class _Request(Request):
    """atproto's Request over a given httpx client, remembering the last JSON body it received."""

    def __init__(self, http: httpx.Client) -> None:
        super().__init__()
        self._client.close()
        self._client = http
        self.last_json: Any = None

    def _send_request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = super()._send_request(method, url, **kwargs)
        try:
            self.last_json = response.json()
        except ValueError:
            self.last_json = None
        return response


class _Client(Client):
    now: Callable[[], datetime]

    def get_current_time(self) -> datetime:
        # The SDK decides when to refresh the session from this clock; ours is injectable in tests.
        return self.now()


class BlueskyClient:
    def __init__(self, service: str, handle: str, password: str, http: httpx.Client, now: Callable[[], datetime]):
        self.key = (service, handle, hashlib.sha256(password.encode()).hexdigest())
        self.handle, self.password, self.now = handle, password, now
        self.request = _Request(http)
        self.sdk = _Client(base_url=service, request=self.request)
        self.sdk.now = now
        self.did: str | None = None
        self.sdk.on_session_change(self._remember)

    def _remember(self, event: Any, session: Any) -> None:
        self.did = session.did  # the repo our posts are written to
        with _LOCK:
            SESSIONS[self.key] = self.sdk.export_session_string()

    def login(self) -> None:
        with self.errors():
            cached = SESSIONS.get(self.key)
            if cached:
                try:
                    self.sdk.login(session_string=cached, fetch_bsky_profile=False)
                    return
                except (atx.UnauthorizedError, atx.BadRequestError):
                    SESSIONS.pop(self.key, None)  # refresh token expired or revoked: log in afresh
            self.sdk.login(self.handle, self.password, fetch_bsky_profile=False)

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run an SDK call; on an expired access token refresh once and retry, then raw JSON back."""
        self.login()
        with self.errors():
            try:
                fn()
            except atx.BadRequestError as exc:
                if _xrpc_error(exc) != "ExpiredToken":
                    raise
                SESSIONS.pop(self.key, None)
                self.sdk._refresh_and_set_session()  # noqa: SLF001 - the SDK's own refresh path
                fn()
        return self.request.last_json

    @contextmanager
    def errors(self) -> Iterator[None]:
        try:
            yield
        except atx.RateLimitExceededError as exc:
            headers = exc.response.headers if exc.response else {}
            raise RateLimited(
                "Bluesky rate limit", retry_after=retry_after(headers, self.now()), platform_code=429
            ) from exc
        except atx.UnauthorizedError as exc:
            raise AuthExpired(
                f"Bluesky refused the app password or session: {_message(exc)}", platform_code=_xrpc_error(exc) or 401
            ) from exc
        except atx.BadRequestError as exc:
            code = _xrpc_error(exc)
            if code in ("ExpiredToken", "InvalidToken", "AccountTakedown"):
                raise AuthExpired(f"Bluesky: {_message(exc)}", platform_code=code) from exc
            raise ConnectorError(
                f"Bluesky rejected the request: {_message(exc)}", permanent=True, platform_code=code or 400
            ) from exc
        except (atx.NetworkError, atx.InvokeTimeoutError) as exc:
            raise ConnectorError(f"Bluesky unreachable: {_message(exc)}", permanent=False) from exc
        except atx.RequestException as exc:
            status = exc.response.status_code if exc.response else None
            raise ConnectorError(
                f"Bluesky error: {_message(exc)}", permanent=not (status is None or status >= 500), platform_code=status
            ) from exc


def _xrpc_error(exc: atx.RequestException) -> str | None:
    content = exc.response.content if exc.response else None
    return getattr(content, "error", None)


def _message(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    return getattr(content, "message", None) or getattr(content, "error", None) or type(exc).__name__
