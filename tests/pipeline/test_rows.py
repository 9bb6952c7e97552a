"""db.executemany: straight to the SQLite driver, and what it stores is exactly what SQLAlchemy would store
(dates, JSON, booleans, constants of the statement); on PostgreSQL it is SQLAlchemy's own executemany."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, select, text, update
from tests.factories import message, seed_org

from onevoice import db
from onevoice.contacts.models import Contact
from onevoice.db import executemany, unit_of_work
from onevoice.events.models import Event
from onevoice.messages.models import Message, RoutingDecision
from onevoice.pipeline.intake import accept_batch


def _events(n: int, kind: str, at: datetime) -> list[dict]:
    return [{"kind": kind, "message_id": None, "case_id": None, "actor": f"w{i}", "created_at": at,
             "data": {"i": i, "text": "ünïcode \"quoted\"", "big": 2**70, "nested": [1, None, True]}}
            for i in range(n)]


def _stored(session, kind: str) -> list[tuple]:
    return [tuple(r) for r in session.execute(text(
        "SELECT actor, data, created_at, message_id FROM events WHERE kind = :k ORDER BY actor"), {"k": kind})]


@pytest.mark.both_databases
def test_executemany_stores_what_sqlalchemy_stores(session_factory):
    at = datetime(2026, 12, 6, 15, 50, 1, 123456, tzinfo=UTC)
    with unit_of_work(session_factory) as s:
        executemany(s, "test.events", Event.__table__.insert(), _events(5, "fast", at))
        s.execute(Event.__table__.insert(), _events(5, "plain", at))
        executemany(s, "test.events", Event.__table__.insert(), [])  # nothing: no statement
    with session_factory() as s:
        fast, plain = _stored(s, "fast"), _stored(s, "plain")
        assert fast == plain and len(fast) == 5  # the same text in the database, column by column
        got = s.scalars(select(Event).where(Event.kind == "fast").order_by(Event.actor)).all()
        assert got[2].data == {"i": 2, "text": "ünïcode \"quoted\"", "big": 2**70, "nested": [1, None, True]}
        assert got[0].created_at.replace(tzinfo=UTC) == at


@pytest.mark.both_databases
def test_an_update_keeps_its_constants_and_takes_each_row_s_values(session_factory):
    seed_org(session_factory)
    with session_factory.begin() as s:
        ids = accept_batch(s, [message(external_id=f"r-{i}") for i in range(4)]).new_ids
    at = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)
    table = Message.__table__
    stmt = update(table).where(table.c.id == bindparam("mid")).values(
        status="processed", error=None, processed_at=bindparam("at_"), triage=bindparam("triage"))
    with unit_of_work(session_factory) as s:
        executemany(s, "test.processed", stmt, [{"mid": mid, "at_": at, "triage": {"intent": f"x{mid}"}}
                                                      for mid in ids[:3]])
    with session_factory() as s:
        got = {m.id: m for m in s.scalars(select(Message).where(Message.id.in_(ids)))}
    assert [got[i].status for i in ids] == ["processed"] * 3 + ["accepted"]
    assert all(got[i].triage == {"intent": f"x{i}"} and got[i].processed_at.replace(tzinfo=UTC) == at
               for i in ids[:3])
    assert got[ids[3]].processed_at is None


@pytest.mark.both_databases
def test_columns_left_to_python_defaults_get_them_as_sqlalchemy_gives_them(session_factory):
    seed_org(session_factory)
    with session_factory.begin() as s:
        ids = accept_batch(s, [message(external_id=f"d-{i}") for i in range(4)]).new_ids
    rows = [{"message_id": mid, "lead_team": "support", "requires_approval": True} for mid in ids]
    with unit_of_work(session_factory) as s:  # created_at, priority and the lists are left to their defaults
        executemany(s, "test.decisions", RoutingDecision.__table__.insert(), rows[:2])
        s.execute(RoutingDecision.__table__.insert(), rows[2:])
    if session_factory.kw["bind"].dialect.name == "sqlite":  # straight to the driver, not SQLAlchemy's way
        assert db._PLANS[("test.decisions", tuple(rows[0]))][1]
    with session_factory() as s:
        got = s.scalars(select(RoutingDecision).where(RoutingDecision.message_id.in_(ids))
                        .order_by(RoutingDecision.message_id)).all()
        stored = [tuple(r) for r in s.execute(text(
            "SELECT lead_team, requires_approval, priority, tags, close_as_spam, collaborators, rules, reason "
            "FROM routing_decisions ORDER BY message_id"))]
    assert [(d.lead_team, d.requires_approval, d.priority, d.tags, d.close_as_spam) for d in got] == [
        ("support", True, "normal", [], False)] * 4
    assert stored[0] == stored[1] == stored[2] == stored[3]  # the same text in the database as SQLAlchemy's
    assert all(d.created_at is not None for d in got)
    # The default's function runs for each row (utcnow), as in SQLAlchemy's executemany.
    assert got[0].created_at <= got[1].created_at


@pytest.mark.both_databases
def test_times_in_any_zone_or_none_are_stored_as_sqlalchemy_stores_them(session_factory):
    """The one-step UTC time processor on SQLite (db._sqlite_utc) against the chain it replaces: another
    offset, a naive time (taken as UTC), no microseconds, before year 1000."""
    from datetime import timedelta, timezone
    from zoneinfo import ZoneInfo
    times = [datetime(2026, 12, 6, 15, 50, 1, 123456, tzinfo=UTC), datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo(
        "Europe/Paris")), datetime(2026, 1, 1, 0, 0, 59, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        datetime(2026, 7, 1, 23, 59, 59, 999999), datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)]
    rows = [{**_events(1, "", datetime.now(UTC))[0], "created_at": at, "actor": f"w{i}"} for i, at in enumerate(times)]
    with unit_of_work(session_factory) as s:
        executemany(s, "test.times", Event.__table__.insert(), [{**r, "kind": "t-fast"} for r in rows])
        s.execute(Event.__table__.insert(), [{**r, "kind": "t-plain"} for r in rows])
    with session_factory() as s:
        fast, plain = _stored(s, "t-fast"), _stored(s, "t-plain")
    assert fast == plain and len(fast) == len(times)


@pytest.mark.both_databases
def test_an_update_adding_to_a_column_and_one_datetime_object_for_every_row(session_factory):
    with session_factory.begin() as s:  # message_count and the times left to their defaults
        executemany(s, "test.new_contacts", Contact.__table__.insert(), [{"name": f"p{i}"} for i in range(3)])
    at = datetime(2026, 12, 6, 17, 0, 0, 5, tzinfo=UTC)
    naive = datetime(2026, 12, 6, 17, 0, 0, 5)  # equal in UTC, another object: processed on its own
    contacts = Contact.__table__
    stmt = (update(contacts).where(contacts.c.id == bindparam("cid"))
            .values(message_count=contacts.c.message_count + bindparam("n"), last_seen_at=bindparam("at_")))
    with session_factory() as s:
        cids = s.scalars(select(Contact.id).order_by(Contact.id)).all()
    with unit_of_work(session_factory) as s:
        executemany(s, "test.contacts", stmt, [{"cid": cid, "n": 2, "at_": at if i else naive}
                                               for i, cid in enumerate(cids)])
        executemany(s, "test.contacts", stmt, [{"cid": cid, "n": 1, "at_": at} for cid in cids[:1]])
    with session_factory() as s:
        got = s.execute(select(Contact.id, Contact.message_count, Contact.last_seen_at).order_by(Contact.id)).all()
    assert [(c, n) for c, n, _ in got] == [(cids[0], 3), *[(c, 2) for c in cids[1:]]]
    assert {when.replace(tzinfo=UTC) for _, _, when in got} == {at}
