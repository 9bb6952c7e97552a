"""The scale-out live relay (live/broker.RedisBroker) against the real Redis: when Redis drops its connection, the
relay closes the client it lost before it makes a new one, keeps relaying, and closes the last one on stop."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

import redis
import redis.asyncio as aioredis

from onevoice.live.broker import RedisBroker


def test_the_relay_closes_the_client_it_lost_before_it_reconnects(redis_url, monkeypatch):
    name = f"onevoice-test-relay-{uuid.uuid4().hex[:8]}"  # only this test's connections are killed
    made, closed = [], []
    original_from_url, original_aclose = aioredis.Redis.from_url, aioredis.Redis.aclose

    def from_url(cls, url, **kwargs):
        client = original_from_url(url, client_name=name, **kwargs)
        made.append(client)
        return client

    async def aclose(self, *args, **kwargs):
        closed.append(self)
        return await original_aclose(self, *args, **kwargs)

    monkeypatch.setattr(aioredis.Redis, "from_url", classmethod(from_url))
    monkeypatch.setattr(aioredis.Redis, "aclose", aclose)
    admin = redis.Redis.from_url(redis_url)
    channel = f"{name}:live"

    def relay_ids() -> list[int]:
        return [c["id"] for c in admin.client_list() if c.get("name") == name]

    async def until(condition, what: str, seconds: float = 10.0) -> None:
        for _ in range(int(seconds * 20)):
            if condition():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}: made {len(made)}, closed {len(closed)}")

    async def scenario() -> list[dict]:
        broker = RedisBroker(redis_url, prefix=name)
        await broker.start()
        received: list[dict] = []

        async def listen():
            async for event in broker.subscribe():
                received.append(event)

        listener = asyncio.create_task(listen())
        await until(lambda: admin.pubsub_numsub(channel)[0][1] == 1, "the relay to subscribe")
        first = made[0]
        for client_id in relay_ids():
            admin.client_kill_filter(_id=client_id)  # Redis restarts, a proxy drops idle connections...
        await until(lambda: len(made) == 2 and admin.pubsub_numsub(channel)[0][1] == 1, "the relay to reconnect")
        assert closed == [first]  # the lost client was closed before (or as) the new one was made
        broker.publish([{"type": "case.updated", "case_id": 7}])
        await until(lambda: received, "the event relayed")
        await broker.stop()
        listener.cancel()
        assert closed == [first, made[1]]
        assert len(made) == 2
        return received

    try:
        # In a thread of its own: in the full suite the browser tests' Playwright keeps an event loop running
        # on the main thread for the whole session, and asyncio.run refuses to start inside it.
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(asyncio.run, scenario()).result() == [{"type": "case.updated", "case_id": 7}]
    finally:
        for client_id in relay_ids():
            admin.client_kill_filter(_id=client_id)
        admin.close()
