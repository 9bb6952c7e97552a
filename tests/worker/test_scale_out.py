"""Scale-out on the real PostgreSQL and Redis: crash a worker mid-batch, run two at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy import func, select, text
from tests.factories import message, seed_org

from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.messages.models import Message
from onevoice.pipeline.intake import accept_batch
from onevoice.worker.streams import GROUP, StreamQueue, stream_key

pytestmark = pytest.mark.postgres


PREFIX = f"onevoice-test-{uuid.uuid4().hex[:8]}"
STREAM = stream_key(PREFIX)


@pytest.fixture
def scale_out(db_backend, db_url, redis_url):
    # Keys of their own, so that nothing else on the Redis server (another run, a deployment) interferes.
    r = redis_lib.Redis.from_url(redis_url)
    r.delete(STREAM, f"{PREFIX}:sweeper")
    engine = make_engine(db_url)
    factory = make_sessionmaker(engine)
    # Webhook channels: nothing polls them, so the only messages are the ones each test sends.
    seed_org(factory, kind="webhook", config={"secret": "scale-out-test-secret"})
    yield db_url, redis_url, factory
    r.delete(STREAM, f"{PREFIX}:sweeper")
    engine.dispose()


def _start_worker(db_url, redis_url, name, batch=25, reclaim_ms=1500):
    env = dict(os.environ, ONEVOICE_DATABASE_URL=db_url, ONEVOICE_REDIS_URL=redis_url,
               ONEVOICE_WORKER_BATCH_SIZE=str(batch), ONEVOICE_RECLAIM_IDLE_MS=str(reclaim_ms),
               ONEVOICE_REQUEUE_AFTER_SECONDS="2", ONEVOICE_REDIS_PREFIX=PREFIX, ONEVOICE_LOG_JSON="false",
               ONEVOICE_LOG_LEVEL="WARNING")
    log = open(f"/tmp/onevoice-worker-{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen([sys.executable, "-m", "onevoice.cli.main", "worker", "--name", name], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)


def _accept(factory, redis_url, n, prefix):
    ids = []
    items = [message(text=f"my order {prefix}{i} never arrived", author=f"{prefix}{i}", external_id=f"{prefix}{i}")
             for i in range(n)]
    for start in range(0, n, 500):
        with unit_of_work(factory) as s:
            ids += accept_batch(s, items[start:start + 500]).new_ids
    StreamQueue(redis_url, PREFIX).enqueue(ids)
    return ids


def _processed(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Message).where(Message.status == "processed"))


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _assert_exactly_once(factory, n):
    with factory() as s:
        q = lambda sql: s.execute(text(sql)).scalar()  # noqa: E731
        assert q("SELECT count(*) FROM messages WHERE status = 'processed'") == n
        assert q("SELECT count(*) FROM routing_decisions") == n
        assert q("SELECT count(*) FROM events WHERE kind = 'message.processed'") == n
        assert q("SELECT count(*) FROM (SELECT message_id FROM events WHERE kind = 'message.processed' "
                 "GROUP BY message_id HAVING count(*) > 1) d") == 0
        # Every message here comes from a different customer: one case each, none twice.
        assert q("SELECT count(*) FROM cases") == n
        assert q("SELECT count(DISTINCT case_id) FROM messages") == n


def _frozen_holding_a_batch(worker, redis_url) -> bool:
    worker.send_signal(signal.SIGSTOP)
    if redis_lib.Redis.from_url(redis_url).xpending(STREAM, GROUP)["pending"] > 0:
        return True  # stays frozen until the kill
    worker.send_signal(signal.SIGCONT)
    time.sleep(0.005)
    return False


def test_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(scale_out):
    db_url, redis_url, factory = scale_out
    n = 1500
    _accept(factory, redis_url, n, "k")
    worker = _start_worker(db_url, redis_url, "doomed", batch=25)
    try:
        _wait(lambda: _processed(factory) >= 100 or worker.poll() is not None, 60, "first batches")
        assert worker.poll() is None, Path("/tmp/onevoice-worker-doomed.log").read_text()[-3000:]
        # Kill it while it holds a batch it has not acknowledged: freeze it, look, and let it go on if it was
        # between batches (on a busy machine a kill at a random moment often lands there).
        _wait(lambda: _frozen_holding_a_batch(worker, redis_url), 60, "the worker caught holding a batch")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    done = _processed(factory)
    assert 0 < done < n, f"the kill must land mid-stream (processed {done} of {n})"
    pending = redis_lib.Redis.from_url(redis_url).xpending(STREAM, GROUP)["pending"]
    assert pending > 0, "the killed worker held unacknowledged deliveries"
    survivor = _start_worker(db_url, redis_url, "survivor", batch=100, reclaim_ms=500)
    try:
        _wait(lambda: _processed(factory) == n, 120, "all messages processed after restart")
    finally:
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(20)
    _assert_exactly_once(factory, n)


def test_two_workers_in_parallel_never_process_one_message_twice(scale_out):
    db_url, redis_url, factory = scale_out
    n = 1200
    workers = [_start_worker(db_url, redis_url, f"w{i}", batch=20) for i in range(2)]
    try:
        time.sleep(1.0)
        _accept(factory, redis_url, n, "p")
        # Deliver every id a second time too: redelivery must change nothing.
        with factory() as s:
            StreamQueue(redis_url, PREFIX).enqueue(list(s.scalars(select(Message.id))))
        _wait(lambda: _processed(factory) == n, 120, "all messages processed by two workers")
        time.sleep(1.0)  # let the duplicate deliveries drain through both workers
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(20)
    _assert_exactly_once(factory, n)
    with factory() as s:
        by_worker = dict(s.execute(text(
            "SELECT actor, count(*) FROM events WHERE kind = 'message.processed' GROUP BY actor")).all())
    assert set(by_worker) == {"w0", "w1"}, f"both workers took part: {by_worker}"


def test_message_committed_but_never_enqueued_is_swept_up(scale_out):
    db_url, redis_url, factory = scale_out
    items = [message(text="lost in transit", author=f"s{i}") for i in range(30)]
    with unit_of_work(factory) as s:
        accept_batch(s, items)  # committed, but the process "crashed" before enqueueing
    worker = _start_worker(db_url, redis_url, "sweeper")
    try:
        _wait(lambda: _processed(factory) == 30, 60, "the sweeper to find unqueued messages")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)


def test_worker_recovers_when_redis_loses_the_stream(scale_out):
    """Redis here keeps nothing on disk: after a restart the stream and group are gone."""
    db_url, redis_url, factory = scale_out
    worker = _start_worker(db_url, redis_url, "phoenix")
    try:
        _accept(factory, redis_url, 20, "before")
        _wait(lambda: _processed(factory) == 20, 60, "first messages")
        redis_lib.Redis.from_url(redis_url).delete(STREAM)  # what a restart without persistence looks like
        with unit_of_work(factory) as s:
            accept_batch(s, [message(text="after the restart", author=f"after{i}") for i in range(10)])
        _wait(lambda: _processed(factory) == 30, 60, "messages accepted after the stream vanished")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)
