"""praw for a worker: raw JSON back (praw.Reddit.request), no sleeping retries, typed errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import praw
import prawcore
from prawcore.sessions import FiniteRetryStrategy

from onevoice import egress
from onevoice.connectors.base import AuthExpired, ConnectorError, RateLimited
from onevoice.connectors.http_errors import retry_after


@dataclass(frozen=True)
class _OneQuickRetry(FiniteRetryStrategy):
    """One immediate retry (enough for prawcore to renew an expired token after a 401); longer
    waits belong to the outbox's and poller's backoff, not to a sleeping worker."""

    DEFAULT_RETRIES = 1

    def _sleep_seconds(self) -> float | None:
        return None


def make_reddit(client_id: str, client_secret: str, username: str, password: str | None, user_agent: str,
                refresh_token: str | None = None) -> praw.Reddit:
    # A refresh token (web app, signed in from the Accounts page) is renewed by prawcore itself; Reddit's
    # permanent refresh tokens do not change when used, so nothing has to be written back.
    login = {"refresh_token": refresh_token} if refresh_token else {"username": username, "password": password}
    reddit = praw.Reddit(
        client_id=client_id,
        client_secret=client_secret,
        **login,
        user_agent=user_agent,
        check_for_updates=False,
        check_for_async=False,
        requestor_kwargs={"session": egress.session()},  # through the outbound guard
    )
    for core in (reddit._authorized_core, reddit._read_only_core):  # noqa: SLF001 - no public hook
        if core is not None:
            core._retry_strategy_class = _OneQuickRetry  # noqa: SLF001
    return reddit


@contextmanager
def errors(now: Callable[[], datetime]) -> Iterator[None]:
    try:
        yield
    except prawcore.TooManyRequests as exc:
        raise RateLimited(
            "Reddit rate limit", retry_after=retry_after(exc.response.headers, now()), platform_code=429
        ) from exc
    except prawcore.OAuthException as exc:
        # invalid_grant: the password changed or the app was revoked.
        raise AuthExpired(f"Reddit refused the credentials: {exc}", platform_code=exc.error) from exc
    except (prawcore.InvalidToken, prawcore.Forbidden) as exc:
        raise AuthExpired(f"Reddit refused the token: {exc}", platform_code=exc.response.status_code) from exc
    except prawcore.ServerError as exc:
        raise ConnectorError(
            f"Reddit server error: {exc}", permanent=False, platform_code=exc.response.status_code
        ) from exc
    except prawcore.ResponseException as exc:
        if exc.response.status_code == 401:
            raise AuthExpired(f"Reddit refused the token: {exc}", platform_code=401) from exc
        raise ConnectorError(f"Reddit refused: {exc}", permanent=True, platform_code=exc.response.status_code) from exc
    except prawcore.RequestException as exc:
        raise ConnectorError(f"Reddit unreachable: {exc}", permanent=False) from exc
