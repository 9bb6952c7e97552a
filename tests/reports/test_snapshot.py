"""The parts of a report read concurrently see one committed state (reports/snapshot.py: PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from onevoice.db import make_sessionmaker, unit_of_work
from onevoice.reports import snapshot
from onevoice.reports.models import ReportState


def _count(s) -> int:
    return s.scalar(select(func.count()).select_from(ReportState))


@pytest.mark.postgres
def test_parts_read_one_state_though_a_write_commits_between_them(db_backend, engine, session_factory):
    """The first part commits a row (another connection) before any part reads: no part sees it, and both
    parts run at the same time on connections of their own."""
    read = make_sessionmaker(engine, readonly=True)
    with read() as s:
        before = _count(s)
    threads: list[str] = []
    written = threading.Event()

    def writes_then_reads(s):
        threads.append(threading.current_thread().name)
        with unit_of_work(session_factory) as w:
            w.add(ReportState(key="written-between", last_event_id=1))
        written.set()
        return _count(s)

    def reads_after_the_write(s):
        threads.append(threading.current_thread().name)
        assert written.wait(10)
        return _count(s)

    with read() as s:
        assert snapshot.concurrently(s, [writes_then_reads, reads_after_the_write]) == [before, before]
    assert len(set(threads)) == 2
    with read() as s:  # the row was committed: a new read sees it
        assert _count(s) == before + 1


@pytest.mark.both_databases
def test_a_writing_session_runs_its_parts_itself(session_factory):
    """A session with writes of its own (uncommitted): the parts run in it, one after the other, and see them."""
    with session_factory() as s:
        s.add(ReportState(key="uncommitted", last_event_id=1))
        s.flush()
        n = _count(s)
        assert snapshot.concurrently(s, [_count, _count]) == [n, n]
        s.rollback()


@pytest.mark.sqlite_only
def test_sqlite_runs_the_parts_in_the_session(db_backend, engine):
    read = make_sessionmaker(engine, readonly=True)
    with read() as s:
        seen = snapshot.concurrently(s, [lambda x: (x, threading.current_thread())] * 2)
    assert seen == [(s, threading.current_thread())] * 2


@pytest.mark.postgres
def test_a_report_that_finds_the_fan_out_taken_reads_in_its_session(db_backend, engine, monkeypatch):
    """Reports reading their parts at once are bounded (each takes a connection per part from the pool): one more
    does not wait for them, it reads its parts itself, in its own thread and session."""
    read = make_sessionmaker(engine, readonly=True)
    monkeypatch.setattr(snapshot, "_fanning", threading.BoundedSemaphore(1))
    with read() as outer:
        def inner_report(s):  # a second report while the first holds the only fan-out
            with read() as inner:
                return snapshot.concurrently(inner, [lambda x: (x is inner, threading.current_thread())] * 2)
        first, _ = snapshot.concurrently(outer, [inner_report, _count])
    assert first == [(True, threading.current_thread())] * 2
    with read() as s:  # released: the next report fans out again
        names = snapshot.concurrently(s, [lambda x: threading.current_thread().name] * 2)
    assert len(set(names)) == 2
