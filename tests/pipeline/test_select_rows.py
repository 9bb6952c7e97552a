"""db.select_rows: on SQLite straight from the driver's cursor, and what it reads is exactly what SQLAlchemy's
result gives (times as aware UTC datetimes, JSON decoded, booleans, list parameters, the statement's own
constants); on PostgreSQL it is SQLAlchemy's own result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, case, null, select, text, type_coerce

from onevoice import db
from onevoice.db import select_rows, unit_of_work
from onevoice.events.models import Event

AT = datetime(2026, 12, 7, 9, 30, 1, 123456, tzinfo=UTC)
ROWS = [{"kind": kind, "message_id": None, "case_id": None, "actor": f"a{i}", "created_at": at, "data": data}
        for i, (kind, at, data) in enumerate([
            ("case.status", AT, {"from": "open", "to": "resolved", "n": [1, None, True]}),
            ("note", AT + timedelta(seconds=1), {"text": "not read"}),
            ("case.status", datetime(2026, 3, 29, 1, 0, tzinfo=UTC), {"ü": "\"quoted\""}),  # no microseconds
            ("message.processed", AT, {}),
        ])]
# Built once, as the callers' statements are (the plan is kept per statement).
STMT = select(Event.id, Event.kind, Event.actor, Event.created_at,
              type_coerce(case((Event.kind == "case.status", Event.data), else_=null()), Event.data.type),
              Event.kind == "note", Event.message_id) \
    .where(Event.actor.in_(bindparam("actors", expanding=True)), Event.kind.not_in(("message.processed",)),
           Event.created_at >= bindparam("since")).order_by(Event.actor)


@pytest.mark.both_databases
def test_select_rows_reads_what_sqlalchemy_reads(session_factory):
    with unit_of_work(session_factory) as s:
        s.execute(Event.__table__.insert(), ROWS)
    params = {"actors": ["a0", "a1", "a2", "a3", "nobody"], "since": AT - timedelta(days=300)}
    with session_factory() as s:
        names, rows = select_rows(s, STMT, params)
        again = select_rows(s, STMT, params)  # the kept plan, with the same answer
        result = s.connection().execute(STMT, params)
        expected = result.all()
        assert names == list(result.keys())
    assert [tuple(r) for r in rows] == [tuple(r) for r in expected] == [tuple(r) for r in again[1]]
    assert len(rows) == 3 and rows[0][3] == AT and all(r[3].utcoffset() == timedelta(0) for r in rows)
    assert rows[0][4] == {"from": "open", "to": "resolved", "n": [1, None, True]} and rows[1][4] is None
    assert [r[5] for r in rows] == [False, True, False] and rows[0][6] is None
    with session_factory() as s:  # an empty list matches nothing; another list, other rows
        assert select_rows(s, STMT, {**params, "actors": []})[1] == []
        assert [r[2] for r in select_rows(s, STMT, {**params, "actors": ["a2"]})[1]] == ["a2"]
    if session_factory.kw["bind"].dialect.name == "sqlite":  # straight from the driver: a plan was made
        assert db._READS[id(STMT)][0] is STMT and rows[0][3].tzinfo is UTC


@pytest.mark.parametrize("stored", ["2026-12-07 09:30:01.123456", "2026-12-07 09:30:01", "2026-12-07",
                                    "2026-12-07 09:30:01.123456+02:00", "2026-12-07T09:30:01.000001",
                                    "0999-01-01 00:00:00.000000",
                                    # The stored format's length with an offset of its own (read in two steps).
                                    "2026-12-07 09:30:01.1+0200", "2026-12-07T09:30:01.12345Z",
                                    "2026-12-07 09:30:01.123+02"])
def test_utc_times_are_read_as_utc_date_time_reads_them(stored):
    # SQLAlchemy's chain: SQLite's DATETIME result processor, then UTCDateTime's (UTC where no offset).
    from sqlalchemy.dialects import sqlite

    kind = db.UTCDateTime()
    chain = kind._cached_result_processor(sqlite.dialect(), None)
    got, expected = db._utc_time(stored), chain(stored)
    assert got == expected and got.tzinfo == expected.tzinfo and got.utcoffset() == expected.utcoffset()
    if "+" not in stored:
        assert got.tzinfo is UTC
    assert db._utc_time(None) is None and db._utc_time(AT) is AT


@pytest.mark.both_databases
def test_executemany_without_shared_times_stores_the_same(session_factory):
    times = [AT + timedelta(microseconds=i) for i in range(3)] + [AT.astimezone(timezone(timedelta(hours=-5)))]
    rows = [{**ROWS[0], "actor": f"s{i}", "created_at": t} for i, t in enumerate(times)]
    with unit_of_work(session_factory) as s:
        db.executemany(s, "test.select_rows.shared", Event.__table__.insert(), rows)
        db.executemany(s, "test.select_rows.own", Event.__table__.insert(),
                       [{**r, "kind": "own"} for r in rows], shared_times=False)
    with session_factory() as s:
        stored = {kind: [tuple(r) for r in s.execute(text(
            "SELECT actor, created_at, data FROM events WHERE kind = :k ORDER BY actor"), {"k": kind})]
            for kind in ("case.status", "own")}
    assert stored["own"] == stored["case.status"] and len(stored["own"]) == 4
