"""The processor's write transactions run without SQLite's foreign-key checks (db.keys_unchecked); every other
write transaction, on the same pooled connections, still checks them, and PostgreSQL always does."""

from __future__ import annotations

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.exc import IntegrityError
from tests.factories import message

from onevoice import db
from onevoice.db import keys_unchecked, unit_of_work
from onevoice.events.models import Event
from onevoice.messages.models import Message

pytestmark = pytest.mark.both_databases

DANGLING = 987_654_321  # no message has this id


def _dangling_event(session) -> None:
    session.execute(insert(Event.__table__).values(kind="test", message_id=DANGLING, data={}))


def _checks_keys(session_factory) -> bool:
    try:
        with unit_of_work(session_factory) as session:
            _dangling_event(session)
            session.flush()
            raise _Undo
    except IntegrityError:
        return True
    except _Undo:
        return False


class _Undo(Exception):
    """Rolls a probe's transaction back after its insert went through."""


def test_only_the_unchecked_transaction_skips_the_checks(session_factory, db_backend):
    assert _checks_keys(session_factory)
    with pytest.raises((IntegrityError, _Undo)) as raised, unit_of_work(session_factory) as session:
        keys_unchecked(session)
        _dangling_event(session)
        raise _Undo
    # SQLite lets the unchecked transaction write it; PostgreSQL refuses it whatever the session asked.
    assert raised.type is (_Undo if db_backend == "sqlite" else IntegrityError)
    # The same pooled connection checks again for the next writer.
    assert _checks_keys(session_factory)


@pytest.mark.sqlite_only
def test_the_processor_writes_without_the_checks_and_leaves_them_on(client, runtime, drain, db_backend):
    seen: list[int] = []

    def spy(conn) -> None:  # after db's own begin hook: what the transaction runs with
        if conn.get_execution_options().get(db.KEYS_UNCHECKED):
            seen.append(conn.exec_driver_sql("PRAGMA foreign_keys").scalar())

    event.listen(runtime.engine, "begin", spy)
    try:
        r = client.post("/api/v1/messages", json={"messages": [message(text="my kettle broke, refund please")]})
        assert r.status_code == 202
        drain()
    finally:
        event.remove(runtime.engine, "begin", spy)
    assert seen == [0]  # its one write transaction, keys unchecked
    with runtime.session_factory() as session:
        assert session.scalar(select(Message.status)) == "processed"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert _checks_keys(runtime.session_factory)
