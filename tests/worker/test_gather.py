"""The embedded worker gathers journaled webhook deliveries into larger batches under a trickle (their fixed
costs shared), but never holds one longer than its bound after it was received, and takes a full batch at once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select
from tests.channels.test_intake_journal import APP_SECRET, PAGE, _delivery
from tests.factories import seed_org
from tests.scripted_triage import scripted_runtime

from onevoice.channels.service import add_channel
from onevoice.db import unit_of_work
from onevoice.messages.models import Message
from onevoice.pipeline.journal import IntakeJournal
from onevoice.settings import DEV_SECRET
from onevoice.worker.runner import GATHER_POLL, EmbeddedWorker, gather_wait


def test_gather_wait_holds_the_oldest_at_most_its_bound():
    now = 1000.0
    assert gather_wait(200, now, now, 200, 0.15) == 0  # a full batch waits: take it now
    assert gather_wait(0, None, now, 200, 0.15) == 0  # nothing received to wait for
    assert gather_wait(3, now, now, 200, 0.15) == pytest.approx(0.15)  # just received: held up to the bound
    assert gather_wait(3, now - 0.1, now, 200, 0.15) == pytest.approx(0.05)  # the rest of the bound
    assert gather_wait(3, now - 0.15, now, 200, 0.15) == 0  # held its bound: take it
    assert gather_wait(3, now - 60, now, 200, 0.15) == 0
    assert gather_wait(3, now + 5, now, 200, 0.15) == 0.15  # a clock step back: still never more than the bound


def test_waiting_counts_up_to_enough_and_ignores_retried_deliveries(tmp_path):
    journal = IntakeJournal(str(tmp_path / "x.db-intake"))
    try:
        assert journal.waiting(10) == (0, None)
        seqs = [journal.append(1, {}, f'{{"i": {i}}}'.encode()).result(10)[0] for i in range(5)]
        count, oldest = journal.waiting(3)
        assert count == 3 and oldest == journal.pending(1)[0].received_at
        journal.retry_later(seqs[0])  # being retried: its age says nothing about the new ones
        assert journal.waiting(10) == (5, journal.pending(2)[1].received_at)
        journal.mark_done(seqs)
        assert journal.waiting(10) == (0, None)
    finally:
        journal.close()


def _journaled_worker(settings, batch_size: int, hold: float):
    runtime = scripted_runtime(settings)
    seed_org(runtime.session_factory)
    with unit_of_work(runtime.session_factory) as s:
        channel = add_channel(s, "fb", "meta", config={"app_secret": APP_SECRET, "verify_token": "v",
                                                       "page_access_token": "t", "page_id": PAGE},
                              secret_key=DEV_SECRET)
        channel_id = channel.id
    batches: list[tuple[float, list[int]]] = []
    process = runtime.processor.process

    def timed(ids):
        batches.append((time.time(), list(ids)))
        return process(ids)

    runtime.processor.process = timed
    worker = EmbeddedWorker(runtime.processor, runtime.session_factory, lambda _e: None, batch_size=batch_size,
                            idle_seconds=0.25, ingest=runtime.ingest, waiting=runtime.journal.waiting,
                            hold_seconds=hold)
    runtime.worker = worker  # the journal's group commits wake it (Runtime.wake_worker)
    return runtime, worker, channel_id, batches


def _send(runtime, channel_id: int, first: int, n: int) -> None:
    for f in [runtime.journal.append(channel_id, {"content-type": "application/json"}, _delivery(i))
              for i in range(first, first + n)]:
        f.result(10)


def _processed(runtime) -> dict[int, float]:
    """Processed message id -> when intake received it (epoch seconds)."""
    with runtime.session_factory() as s:
        return {mid: received.timestamp() for mid, received in s.execute(
            select(Message.id, Message.received_at).where(Message.status == "processed"))}


def _wait_for(runtime, n: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(_processed(runtime)) >= n:
            return True
        time.sleep(0.02)
    return False


def test_a_trickle_is_gathered_and_no_delivery_is_held_past_the_bound(settings):
    hold = 0.4
    runtime, worker, channel_id, batches = _journaled_worker(settings, batch_size=100, hold=hold)
    worker.start()
    try:
        sent = 0
        for _ in range(8):  # 8 x 3 deliveries, 0.1 s apart: a trickle over ~0.8 s
            _send(runtime, channel_id, sent, 3)
            sent += 3
            time.sleep(0.1)
        assert _wait_for(runtime, sent, 20)
    finally:
        worker.stop()
        runtime.dispose()
    received = _processed(runtime)
    assert len(received) == sent
    taken = {mid: at for at, ids in batches for mid in ids}
    # Gathered: a trickle arriving every 0.1 s is taken a few batches at a time, not a batch per arrival.
    assert len(batches) <= 4, [len(ids) for _, ids in batches]
    # Never held past the bound (plus one look at the journal and this loaded machine's scheduling).
    held = [taken[mid] - received[mid] for mid in received]
    assert max(held) < hold + GATHER_POLL + 1.0, held


def test_a_full_batch_is_taken_without_waiting_for_the_bound(settings):
    runtime, worker, channel_id, batches = _journaled_worker(settings, batch_size=20, hold=30.0)
    worker.start()
    try:
        started = time.monotonic()
        _send(runtime, channel_id, 0, 25)  # more than a batch, in one go
        assert _wait_for(runtime, 20, 20)
        assert time.monotonic() - started < 15  # well before the 30 s bound
    finally:
        worker.stop()
        runtime.dispose()
    assert len(batches[0][1]) >= 20
    # Released from the gathering, a worker that is stopped does not wait out the bound either.


def test_a_worker_without_a_journal_keeps_its_fixed_linger(settings):
    runtime = scripted_runtime(settings)
    try:
        worker = EmbeddedWorker(runtime.processor, runtime.session_factory, lambda _e: None, linger_seconds=0.05)
        assert worker.waiting is None
        started = time.monotonic()
        worker._gather()  # nothing to gather from: returns at once
        assert time.monotonic() - started < 0.05
    finally:
        runtime.dispose()


def test_stop_ends_the_gathering_at_once(settings):
    runtime, worker, channel_id, _batches = _journaled_worker(settings, batch_size=100, hold=30.0)
    try:
        _send(runtime, channel_id, 0, 1)
        done = threading.Event()
        thread = threading.Thread(target=lambda: (worker._gather(), done.set()))
        thread.start()
        time.sleep(0.1)
        assert not done.is_set()  # gathering: one delivery, the bound 30 s away
        worker._stop.set()
        assert done.wait(2)
        thread.join(2)
    finally:
        runtime.dispose()


def test_the_full_hold_only_while_the_worker_is_busy():
    from onevoice.worker.runner import BUSY_ABOVE, IDLE_BELOW, busy_hold

    assert not busy_hold(0.0, False) and not busy_hold(IDLE_BELOW + 0.05, False)  # time to spare: short
    assert busy_hold(BUSY_ABOVE, False) and busy_hold(0.9, True)  # busy: the full hold
    assert busy_hold(IDLE_BELOW + 0.05, True)  # between the two: it keeps what it did
    assert not busy_hold(IDLE_BELOW - 0.05, True)


def test_an_idle_worker_holds_the_short_bound_and_a_busy_one_the_full(settings):
    from onevoice.pipeline.processor import Outcome

    runtime = scripted_runtime(settings)
    try:
        worker = EmbeddedWorker(runtime.processor, runtime.session_factory, lambda _e: None,
                                waiting=lambda n: (0, None), hold_seconds=0.15, short_hold_seconds=0.05)
        assert worker.hold() == 0.05  # nothing measured yet: time to spare
        busy = Outcome(processed=[1])
        t = 100.0
        for _ in range(10):  # batches back to back: 90 ms of work in every 100 ms
            worker._measure(t + 0.01, t + 0.1, busy)
            t += 0.1
        assert worker.hold() == 0.15
        for _ in range(10):  # then a batch of 5 ms every 100 ms
            worker._measure(t + 0.095, t + 0.1, busy)
            t += 0.1
        assert worker.hold() == 0.05
        for _ in range(10):  # busy again, then nothing to do at all: idle passes count as idle
            worker._measure(t + 0.01, t + 0.1, busy)
            t += 0.1
        for _ in range(10):
            worker._measure(t + 0.05, t + 0.1, Outcome())
            t += 0.1
        assert worker.hold() == 0.05
    finally:
        runtime.dispose()
