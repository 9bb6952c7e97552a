"""Live updates for open pages and API clients (server-sent events).

In-process fan-out in the embedded default; Redis pub/sub when several web nodes and workers run.
Publishing is thread-safe: the embedded worker publishes from its own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator

import orjson

log = logging.getLogger(__name__)


class LocalBroker:
    def __init__(self, max_queue: int = 1000) -> None:
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()
        self._lock = threading.Lock()
        self._max_queue = max_queue

    def publish(self, events: list[dict]) -> None:
        if not events:
            return
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            with contextlib.suppress(RuntimeError):  # the loop closed under us
                loop.call_soon_threadsafe(_offer, queue, events)

    async def subscribe(self) -> AsyncIterator[dict]:
        queue: asyncio.Queue = asyncio.Queue(self._max_queue)
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subscribers.add(entry)
        try:
            while True:
                for event in await queue.get():
                    yield event
        finally:
            with self._lock:
                self._subscribers.discard(entry)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def _offer(queue: asyncio.Queue, events: list[dict]) -> None:
    # A subscriber too slow to keep up loses old updates rather than slowing every publisher.
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(events)


class RedisBroker(LocalBroker):
    """Publishes to Redis; one listener per web process relays to its local subscribers."""

    def __init__(self, redis_url: str, prefix: str = "onevoice") -> None:
        super().__init__()
        # Optional: only a scale-out deployment (ONEVOICE_REDIS_URL) loads the Redis client.
        import redis

        self._channel = f"{prefix}:live"
        self._redis_url = redis_url
        self._sync = redis.Redis.from_url(redis_url)
        self._task: asyncio.Task | None = None

    def publish(self, events: list[dict]) -> None:
        if events:
            try:
                self._sync.publish(self._channel, orjson.dumps(events))
            except Exception as exc:  # live updates are best effort; the database is the truth
                log.warning("live publish failed: %s", exc)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._relay())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._sync.close()

    async def _relay(self) -> None:
        # Optional: only a scale-out deployment (ONEVOICE_REDIS_URL) loads the Redis client.
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self._redis_url)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                async for item in pubsub.listen():
                    if item.get("type") == "message":
                        LocalBroker.publish(self, orjson.loads(item["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("live relay lost Redis (%s); reconnecting", exc)
            finally:
                # The lost connection's client goes with it: a relay that reconnects for days keeps one, not one
                # per outage (sockets, and a pool each).
                await _close(pubsub, client)
            await asyncio.sleep(1)


async def _close(pubsub, client) -> None:
    with contextlib.suppress(Exception):  # closing a connection already lost may fail in its own way
        await pubsub.aclose()
    with contextlib.suppress(Exception):
        await client.aclose()


def make_broker(redis_url: str | None, prefix: str = "onevoice") -> LocalBroker:
    return RedisBroker(redis_url, prefix) if redis_url else LocalBroker()
