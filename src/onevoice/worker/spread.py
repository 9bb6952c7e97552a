"""How many of `onevoice serve`'s worker processes share the backlog now (SQLite, worker/child.WorkerPool).

A second worker process pays only while there is a backlog one worker is behind on (the batched API: two
cores processing instead of one). Under a stream of webhook deliveries it cost more than it gave: each small
batch's fixed costs (lookups, the surge detector, a commit) were paid twice, and always looking ahead reads
every batch twice (bench/README.md, issue 14, rounds 7 and 8). So the pool's width, shared by its processes,
is 1 until the first worker takes a batch of the largest size and is still not done (`next_width`); then every
worker takes its share (`runner.share_key` modulo the width), looking ahead before it writes, until what is
left fits in one base batch, when the first worker takes everything again and the others sleep.

Changing the width never makes a message processed twice or left behind: each worker takes a message only
while it is still `accepted`, inside its write transaction, whatever share it believed it had (the most a
change costs is one batch worked out by two workers, one of which then finds it taken).
"""

from __future__ import annotations

from collections.abc import Callable


def next_width(width: int, count: int, taken: int, limit: int, max_batch_size: int, batch_size: int,
               waiting: Callable[[], int]) -> int:
    """The pool's width after the first worker's batch: `taken` messages of the `limit` it asked for.

    From 1: all `count` once a batch of `max_batch_size` came back full (the batch limit doubles only while
    batches come back full, so the backlog has outlasted several batches and more waits). Wide: back to 1
    when the first worker's share came back short and fewer than one base batch waits in all shares
    (`waiting()`, read only then); another worker's share may still be long, and it keeps its width for that.
    """
    if width <= 1:
        return count if count > 1 and taken >= max_batch_size else 1
    if taken < limit and waiting() < batch_size:
        return 1
    return width


class Spread:
    """One worker's view of the pool's width, a `multiprocessing.Value('i')` shared by the pool's processes
    (the first worker writes it; the others only read it)."""

    def __init__(self, width, index: int, count: int) -> None:
        self.width, self.index, self.count = width, index, count

    def share(self) -> tuple[int, int] | None:
        """(index, width) of the accepted ids this worker takes now; None: it sleeps (the pool is narrow)."""
        width = self.width.value
        return (self.index, width) if self.index < width else None

    def after_batch(self, taken: int, limit: int, max_batch_size: int, batch_size: int,
                    waiting: Callable[[], int]) -> bool:
        """The first worker, after a batch: set the width (`next_width`). True when the pool widened, so that
        the others must be woken."""
        if self.index:
            return False
        before = self.width.value
        after = next_width(before, self.count, taken, limit, max_batch_size, batch_size, waiting)
        if after != before:
            self.width.value = after
        return after > before
