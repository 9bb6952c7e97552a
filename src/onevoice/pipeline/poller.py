"""Polling: catch up every channel that can be polled, behind webhooks too, politely.

Each channel keeps its cursor in the database. A rate limit waits for the platform's own retry hint; an
expired or revoked token marks the channel's health and alerts its owner team instead of failing silently;
other errors back off exponentially. In scale-out mode a Redis lock per channel makes one worker poll it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import select

from onevoice.channels.models import Channel
from onevoice.channels.service import connector_for, set_health
from onevoice.connectors import registry
from onevoice.connectors.base import AuthExpired, Capability, ConnectorError, RateLimited
from onevoice.db import utcnow
from onevoice.events.models import Event
from onevoice.pipeline.inbound import accept_from_connector
from onevoice.process import Runtime

log = logging.getLogger(__name__)
DEFAULT_INTERVAL = {"sandbox": 3.0}
FALLBACK_INTERVAL = 60.0
# Channels that also receive webhooks are polled only to catch up what a delivery missed: slower, to
# spend the platform's rate-limit budget on replies rather than on reading what webhooks brought.
CATCH_UP_INTERVAL = 300.0
MAX_BACKOFF = 900.0


class Poller:
    def __init__(self, runtime: Runtime, claim: Callable[[int, float], bool] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.runtime = runtime
        self.claim = claim or (lambda _channel_id, _seconds: True)
        self.clock = clock
        self.next_at: dict[int, float] = {}
        self.failures: dict[int, int] = {}

    def tick(self) -> int:
        """Poll every channel that is due; returns how many new messages were accepted."""
        with self.runtime.read_factory() as session:
            channels = list(session.scalars(select(Channel).where(Channel.enabled.is_(True))))
        total = 0
        for channel in channels:
            if not self._pollable(channel.kind) or self.clock() < self.next_at.get(channel.id, 0.0):
                continue
            interval = float((channel.config or {}).get("poll_interval") or self._interval(channel.kind))
            if not self.claim(channel.id, interval):
                self.next_at[channel.id] = self.clock() + interval
                continue
            total += self.poll(channel, interval)
        return total

    @staticmethod
    def _interval(kind: str) -> float:
        if kind in DEFAULT_INTERVAL:
            return DEFAULT_INTERVAL[kind]
        return CATCH_UP_INTERVAL if Capability.WEBHOOK in registry.get(kind).capabilities else FALLBACK_INTERVAL

    @staticmethod
    def _pollable(kind: str) -> bool:
        try:
            return Capability.POLLING in registry.get(kind).capabilities
        except registry.SettingsError:
            return False

    def poll(self, channel: Channel, interval: float) -> int:
        secret = self.runtime.settings.secret_key.get_secret_value()
        try:
            items, cursor = connector_for(channel, secret).poll(channel.poll_cursor)
        except RateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else interval * 2
            self.next_at[channel.id] = self.clock() + max(wait, 1.0)
            log.info("channel %s rate limited; next poll in %.0fs", channel.key, wait)
            return 0
        except AuthExpired as exc:
            self._unhealthy(channel, "revoked", str(exc), alert=True)
            self.next_at[channel.id] = self.clock() + MAX_BACKOFF
            return 0
        except (ConnectorError, Exception) as exc:  # noqa: BLE001 - a broken channel must not stop the others
            failures = self.failures.get(channel.id, 0) + 1
            self.failures[channel.id] = failures
            self._unhealthy(channel, "failing", str(exc), alert=failures == 3)
            self.next_at[channel.id] = self.clock() + min(MAX_BACKOFF, interval * 2 ** failures)
            return 0
        self.failures.pop(channel.id, None)
        self.next_at[channel.id] = self.clock() + interval
        with self.runtime.session_factory.begin() as session:
            row = session.get(Channel, channel.id)
            result = accept_from_connector(session, row, list(items), self.runtime.settings.max_text_chars)
            row.poll_cursor = cursor
            if row.health != "connected":
                set_health(row, "connected", "polling works")
            if items:
                row.last_activity_at = utcnow()
        self.runtime.queue.enqueue(result.new_ids)
        self.runtime.wake_worker()
        return len(result.new_ids)

    def _unhealthy(self, channel: Channel, status: str, detail: str, alert: bool) -> None:
        log.warning("channel %s %s: %s", channel.key, status, detail)
        with self.runtime.session_factory.begin() as session:
            row = session.get(Channel, channel.id)
            changed = row.health != status
            set_health(row, status, detail)
            if alert or changed:
                session.add(Event(kind=f"channel.{status}", actor="poller", data={
                    "channel": row.key, "owner_team_id": row.owner_team_id, "detail": detail[:500]}))


def redis_claim(redis_url: str, prefix: str = "onevoice") -> Callable[[int, float], bool]:
    # Optional: only a scale-out deployment (ONEVOICE_REDIS_URL) loads the Redis client.
    import redis

    client = redis.Redis.from_url(redis_url)

    def claim(channel_id: int, seconds: float) -> bool:
        return bool(client.set(f"{prefix}:poll:{channel_id}", "1", nx=True, px=max(100, int(seconds * 1000))))

    return claim
