"""Feeds simulated traffic into sandbox channels through the same intake path as real traffic."""

from __future__ import annotations

import logging

from sqlalchemy import select

from onevoice.channels.models import Channel
from onevoice.demo.traffic import SandboxTraffic
from onevoice.pipeline.intake import accept_batch
from onevoice.runtime import Runtime

log = logging.getLogger(__name__)


class SandboxFeeder:
    def __init__(self, runtime: Runtime, per_tick: int = 1, seed: int = 7) -> None:
        self.runtime = runtime
        self.per_tick = per_tick
        self.traffic = SandboxTraffic(seed)

    def tick(self) -> int:
        with self.runtime.session_factory.begin() as session:
            keys = list(session.scalars(select(Channel.key).where(Channel.kind == "sandbox", Channel.enabled)))
            items = [m for key in keys for m in self.traffic.next_batch(key, self.per_tick)]
            result = accept_batch(session, items)
        self.runtime.queue.enqueue(result.new_ids)
        self.runtime.wake_worker()
        return len(result.new_ids)
