"""The default pool of `onevoice serve` on SQLite (worker/spread.py, worker/child.py): the second worker process
sleeps until the first is behind on a backlog, then each takes its share, looking ahead, until little is left;
every message is processed once across the changes of width. The server answers once its workers are warm."""

from __future__ import annotations

import multiprocessing as mp
import time

from sqlalchemy import func, select
from tests.factories import message
from tests.scripted_triage import scripted_runtime
from tests.worker.test_worker_shares import _once_each, _seeded, _share

from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.pipeline.intake import accept_batch
from onevoice.settings import Settings
from onevoice.worker import child
from onevoice.worker.runner import EmbeddedWorker, accepted_ids
from onevoice.worker.spread import Spread, next_width


def _accept(factory, n: int, prefix: str) -> list[int]:
    # Many authors, so that both shares (by author) have messages.
    items = [message(external_id=f"{prefix}-{i}", author=f"{prefix}{i % 23}", text=f"order {i} never arrived")
             for i in range(n)]
    with factory.begin() as s:
        result = accept_batch(s, items)
    return result.new_ids


def test_the_pool_widens_after_a_full_batch_of_the_largest_size_and_narrows_when_little_waits():
    never = lambda: 0  # noqa: E731
    # Narrow: only a full batch at the largest size widens it (the limit doubles only while batches are full).
    assert next_width(1, 2, 1000, 1000, 2000, 200, never) == 1
    assert next_width(1, 2, 1999, 2000, 2000, 200, never) == 1
    assert next_width(1, 2, 2000, 2000, 2000, 200, never) == 2
    assert next_width(1, 1, 2000, 2000, 2000, 200, never) == 1  # a pool of one stays one
    # Wide: a full share keeps it wide whatever waits; a short share narrows it only if little waits in all.
    assert next_width(2, 2, 800, 800, 2000, 200, lambda: 0) == 2
    assert next_width(2, 2, 150, 800, 2000, 200, lambda: 5000) == 2
    assert next_width(2, 2, 150, 800, 2000, 200, lambda: 199) == 1
    assert next_width(2, 2, 0, 200, 2000, 200, lambda: 0) == 1


class _Width:
    def __init__(self) -> None:
        self.value = 1


def _worker(runtime, width, index: int, name: str) -> EmbeddedWorker:
    processor = runtime.processor
    processor.worker = name
    return EmbeddedWorker(processor, runtime.session_factory, lambda _events: None, batch_size=10,
                          max_batch_size=40, spread=Spread(width, index, 2))


def test_the_second_worker_sleeps_while_the_pool_is_narrow_and_takes_its_share_while_wide(db_url):
    factory = _seeded(db_url)
    width = _Width()
    first = _worker(scripted_runtime(Settings(database_url=db_url)), width, 0, "w0")
    second = _worker(scripted_runtime(Settings(database_url=db_url)), width, 1, "w1")
    woken: list[int] = []
    first.on_ingested = lambda: woken.append(width.value)
    try:
        # A trickle: the second takes nothing even when asked, the first everything, alone (no look-ahead forced).
        trickle = _accept(factory, 15, "t")
        assert not second.run_once().processed
        assert sorted(first.run_once().processed) == trickle[:10]
        assert first.processor.look_ahead is None and width.value == 1
        assert sorted(first.run_once().processed) == trickle[10:]
        # A backlog: batches of 10, 20, 40 come back full, and after the full 40 the pool is wide.
        backlog = _accept(factory, 300, "b")
        sizes = []
        while width.value == 1:
            sizes.append(len(first.run_once().processed))
        assert sizes == [10, 20, 40] and woken == [2]
        # Wide: each its own share (by author), looking ahead, until the first finds little waiting.
        taken = {0: [], 1: []}
        while accepted_ids(factory, 1000):
            taken[1] += second.run_once().processed
            taken[0] += first.run_once().processed
            assert first.processor.look_ahead is True
        rest = sorted(backlog[70:])
        assert sorted(taken[0]) == [i for i in rest if i in set(_share(factory, backlog, 0))]
        assert sorted(taken[1]) == [i for i in rest if i in set(_share(factory, backlog, 1))]
        assert taken[0] and taken[1]
        first.run_once()  # its share came back empty and nothing waits: narrow again
        assert width.value == 1 and not second.run_once().processed
        first.run_once()
        assert first.processor.look_ahead is None
        _once_each(factory, trickle + backlog)
    finally:
        first.processor.session_factory.kw["bind"].dispose()


def _drain(db_url: str, index: int, width, ready, out) -> None:
    """One of a pool's two processes, as `onevoice serve` runs them (batches of 10 up to 40 here), until
    nothing is accepted any more."""
    runtime = scripted_runtime(Settings(database_url=db_url))
    worker = _worker(runtime, width, index, f"w{index}")
    ready.wait(60)
    processed: list[int] = []
    idle_since = None
    while True:
        outcome = worker.run_once()
        processed += outcome.processed
        if outcome.processed or accepted_ids(runtime.session_factory, 1):
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > 1:  # nothing left for a second: the other may have narrowed
            break
        if not outcome.processed:
            time.sleep(0.01)
    out.put((index, processed))


def test_two_processes_sharing_a_width_process_a_backlog_together_and_each_message_once(db_url):
    factory = _seeded(db_url)
    ids = _accept(factory, 600, "p")
    ctx = mp.get_context("spawn")
    width, out, ready = ctx.RawValue("i", 1), ctx.Queue(), ctx.Barrier(2)
    procs = [ctx.Process(target=_drain, args=(db_url, index, width, ready, out)) for index in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
    assert [p.exitcode for p in procs] == [0, 0]
    results = dict(out.get(timeout=5) for _ in procs)
    assert results[1], "the pool never widened"
    assert not set(results[0]) & set(results[1])
    assert sorted(results[0] + results[1]) == ids
    assert width.value == 1  # narrow again once the backlog was gone
    _once_each(factory, ids)
    with factory() as s:
        actors = dict(s.execute(select(Event.actor, func.count()).where(Event.kind == "message.processed")
                                .group_by(Event.actor)).all())
        assert s.scalar(select(func.count()).select_from(Message).where(Message.status == "accepted")) == 0
    assert actors == {"w0": len(results[0]), "w1": len(results[1])}


def _ready_after(settings, conn, index, count, width) -> None:
    """A child that takes 1.5 s to warm up, then waits to be stopped."""
    time.sleep(1.5)
    conn.send(child.WORKER_READY)
    while conn.recv() != "stop":
        pass


def _never_ready(settings, conn, index, count, width) -> None:
    while conn.recv() != "stop":
        pass


def test_the_server_waits_for_its_workers_to_be_warm_and_not_forever(monkeypatch):
    settings = Settings(database_url="sqlite:///unused.db")
    pool = child.WorkerPool(settings, lambda _events: None, _ready_after, 2)
    started = time.monotonic()
    pool.start()
    waited = time.monotonic() - started
    pool.stop()
    assert waited >= 1.5  # (spawning a child, which imports this module, adds seconds on a busy machine)
    assert all(w.ready.is_set() for w in pool.workers)
    monkeypatch.setattr(child, "READY_SECONDS", 1.0)
    lone = child.WorkerProcess(settings, lambda _events: None, _never_ready)
    started = time.monotonic()
    lone.start()
    waited = time.monotonic() - started
    lone.stop()
    assert 1.0 <= waited < 10 and not lone.ready.is_set()
