"""Several worker processes on one SQLite database (`ONEVOICE_WORKER_PROCESSES=2`, worker/child.py): while the
pool is wide (worker/spread.py) each takes its share of the accepted ids and looks ahead before it writes.
Whatever the shares, no message is processed twice, and a worker killed inside its write transaction leaves its
batch whole, to be processed once."""

from __future__ import annotations

import http.client
import multiprocessing as mp
import os
import signal
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select
from tests.channels.test_intake_journal import APP_SECRET, PAGE, _delivery, _Server
from tests.factories import message, seed_org
from tests.scripted_triage import scripted_runtime

from onevoice.channels.service import add_channel
from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.events.models import Event
from onevoice.messages.models import Message, RoutingDecision
from onevoice.pipeline.intake import accept_batch
from onevoice.settings import DEV_SECRET, Settings
from onevoice.worker.runner import EmbeddedWorker, accepted_ids, share_key


def _accept(factory, n: int, prefix: str) -> list[int]:
    # Few authors and replies among them, so that the two workers' batches share contacts and conversations.
    items = [message(external_id=f"{prefix}-{i}", author=f"a{i % 7}", text=f"order {i} never arrived",
                     in_reply_to=f"{prefix}-{i - 3}" if i % 5 == 4 else None) for i in range(n)]
    with factory.begin() as s:
        result = accept_batch(s, items)
    assert not result.rejected
    return result.new_ids


@pytest.fixture
def seeded(settings):
    runtime = scripted_runtime(settings)
    seed_org(runtime.session_factory)
    yield runtime
    runtime.dispose()


@pytest.mark.sqlite_only
def test_listing_the_accepted_ids_never_waits_for_the_write_lock(seeded, db_backend):
    """The other worker holds SQLite's write lock for a whole batch: a worker lists its next ids meanwhile."""
    ids = _accept(seeded.session_factory, 5, "wait")
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with unit_of_work(seeded.session_factory) as s:
            s.connection()  # BEGIN IMMEDIATE: the write lock, until done
            held.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        started = time.perf_counter()
        assert accepted_ids(seeded.session_factory, 100) == ids
        assert time.perf_counter() - started < 2  # a write session would wait the holder's 10 s (or 30 s)
    finally:
        done.set()
        holder.join()


@pytest.mark.both_databases
def test_a_share_is_the_oldest_accepted_messages_of_its_authors(settings, db_backend):
    runtime = scripted_runtime(settings)
    try:
        seed_org(runtime.session_factory)
        ids = _accept(runtime.session_factory, 21, "share")
        assert accepted_ids(runtime.session_factory, 100) == ids
        shares = [accepted_ids(runtime.session_factory, 100, share=(i, 2)) for i in range(2)]
        assert sorted(shares[0] + shares[1]) == ids and not set(shares[0]) & set(shares[1])
        assert all(share == sorted(share) and share for share in shares)
        assert accepted_ids(runtime.session_factory, 2, share=(1, 2)) == shares[1][:2]  # the oldest of its share
        if db_backend == "sqlite":
            # By author (the pool is SQLite's): each author's messages are one worker's, so that the other's
            # writes never move the counts its look-ahead read (runner.share_key).
            with runtime.session_factory() as s:
                author = dict(s.execute(select(Message.id, Message.author)).all())
            owners = {}
            for index, share in enumerate(shares):
                for mid in share:
                    assert owners.setdefault(author[mid]["external_id"], index) == index
            assert len(owners) == 7
        else:  # PostgreSQL runs one embedded worker: by id, as before
            assert shares[0] == [i for i in ids if i % 2 == 0]
    finally:
        runtime.dispose()


def _work(db_url: str, share: tuple[int, int], name: str, ready, die_in_write: bool, out) -> None:
    """One worker process: drains its share with the look-ahead on; `die_in_write`: SIGKILLs itself inside
    its first write transaction, after the cases are written and before the messages are marked."""
    runtime = scripted_runtime(Settings(database_url=db_url))
    processor = runtime.processor
    processor.worker = name
    processor.enable_look_ahead()
    if die_in_write:
        def record(*_args, **_kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        processor._record = record
    worker = EmbeddedWorker(processor, runtime.session_factory, lambda _events: None, batch_size=20,
                            share=share)
    ready.wait(60)  # both start together, once each has imported the app, so that their transactions interleave
    processed: list[int] = []
    while True:
        outcome = worker.run_once()
        if not outcome.processed and not outcome.failed:
            break
        processed += outcome.processed
    out.put((name, processed))


def _run(db_url: str, workers: list[tuple[tuple[int, int], str, bool]]) -> tuple[dict, list[int]]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    # Spawned children import the app first (seconds, more on a busy machine): a fixed head start of 8 s was
    # mostly idle waiting, four times per run of this file; the barrier lets them go the moment all are ready.
    ready = ctx.Barrier(len(workers))
    procs = [ctx.Process(target=_work, args=(db_url, share, name, ready, dies, out))
             for share, name, dies in workers]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    results = dict(out.get(timeout=5) for p in procs if p.exitcode == 0)
    return results, [p.exitcode for p in procs]


def _once_each(factory, ids: list[int]) -> None:
    with factory() as s:
        statuses = dict(s.execute(select(Message.id, Message.status).where(Message.id.in_(ids))).all())
        decisions = dict(s.execute(select(RoutingDecision.message_id, func.count()).where(
            RoutingDecision.message_id.in_(ids)).group_by(RoutingDecision.message_id)).all())
        events = dict(s.execute(select(Event.message_id, func.count()).where(
            Event.kind == "message.processed", Event.message_id.in_(ids)).group_by(Event.message_id)).all())
    assert set(statuses.values()) == {"processed"}
    assert decisions == dict.fromkeys(ids, 1) and events == dict.fromkeys(ids, 1)


def _share(factory, ids: list[int], index: int, count: int = 2) -> list[int]:
    """The ids of these messages that are in this share (runner.share_key: by author on SQLite)."""
    with factory() as s:
        return sorted(s.scalars(select(Message.id).where(Message.id.in_(ids), share_key(s) % count == index)))


def _seeded(db_url: str):
    assert db_url.startswith("sqlite")
    factory = make_sessionmaker(make_engine(db_url))
    seed_org(factory)
    return factory


def test_two_worker_processes_process_every_message_once_whatever_their_shares(db_url):
    factory = _seeded(db_url)
    # Each its own share: the two split the messages between them.
    ids = _accept(factory, 240, "split")
    results, codes = _run(db_url, [((0, 2), "w0", False), ((1, 2), "w1", False)])
    assert codes == [0, 0]
    assert sorted(results["w0"]) == _share(factory, ids, 0) and sorted(results["w1"]) == _share(factory, ids, 1)
    assert results["w0"] and results["w1"]
    _once_each(factory, ids)
    # The same share (both take everything, batch after batch of the same ids): still once each, and what
    # one processed the other did not.
    ids = _accept(factory, 240, "same")
    results, codes = _run(db_url, [((0, 1), "w0", False), ((0, 1), "w1", False)])
    assert codes == [0, 0]
    assert not set(results["w0"]) & set(results["w1"])
    assert sorted(results["w0"] + results["w1"]) == ids
    _once_each(factory, ids)


def test_a_worker_killed_in_its_write_transaction_leaves_the_batch_to_be_processed_once(db_url):
    factory = _seeded(db_url)
    ids = _accept(factory, 120, "crash")
    first, second = _share(factory, ids, 0), _share(factory, ids, 1)
    results, codes = _run(db_url, [((0, 2), "w0", True), ((1, 2), "w1", False)])
    assert codes == [-signal.SIGKILL, 0]
    assert sorted(results["w1"]) == second
    with factory() as s:  # the killed batch left nothing: its cases and decisions rolled back with it
        assert s.scalar(select(func.count()).select_from(Message).where(
            Message.id.in_(ids), Message.status == "accepted")) == len(first)
    results, codes = _run(db_url, [((0, 2), "w0-again", False)])  # started again, as the server does
    assert codes == [0] and sorted(results["w0-again"]) == first
    _once_each(factory, ids)


def test_serve_with_two_worker_processes_processes_webhooks_and_the_api_once(db_url, tmp_path, monkeypatch):
    assert db_url.startswith("sqlite")
    factory = make_sessionmaker(make_engine(db_url))
    token = seed_org(factory)
    with unit_of_work(factory) as s:
        add_channel(s, "fb", "meta", config={"app_secret": APP_SECRET, "verify_token": "v", "page_access_token": "EAAB",
                                             "page_id": PAGE}, secret_key=DEV_SECRET)
    monkeypatch.setenv("ONEVOICE_WORKER_PROCESSES", "2")  # the default, said here because the test is about it
    server = _Server(db_url, tmp_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        # Journaled deliveries (the first worker stores them, both process them) and the batched API.
        assert {server.post(conn, _delivery(n)) for n in range(60)} == {200}
        r = httpx.post(f"http://127.0.0.1:{server.port}/api/v1/messages", headers={"Authorization": f"Bearer {token}"},
                       json={"messages": [message(external_id=f"api-{i}", author=f"b{i % 5}", text=f"where is {i}")
                                          for i in range(60)]}, timeout=30)
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with factory() as s:
                if s.scalar(select(func.count()).select_from(Message).where(Message.status == "processed")) >= 120:
                    break
            time.sleep(0.2)
    finally:
        server.stop()
    with factory() as s:
        ids = list(s.scalars(select(Message.id)))
        actors = dict(s.execute(select(Event.actor, func.count()).where(Event.kind == "message.processed")
                                .group_by(Event.actor)).all())
    assert len(ids) == 120
    _once_each(factory, ids)
    # 120 messages are no backlog (the pool widens after a full batch of 2,000, worker/spread.py): the first
    # worker processed them all, the second slept. The pool widened and shares: tests/worker/test_worker_spread.py.
    assert actors == {"embedded-0": 120}
