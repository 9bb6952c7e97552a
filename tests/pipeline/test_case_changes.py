"""Existing cases and their queue entries written with only the columns a batch changed (pipeline/thread.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from tests.factories import BASE_TIME, message

from onevoice.cases.models import Case, CaseTeam
from onevoice.cases.queue import sync_queue
from onevoice.messages.models import Message
from onevoice.pipeline.thread import CaseRow

pytestmark = pytest.mark.both_databases


def post(client, *items):
    r = client.post("/api/v1/messages", json={"messages": list(items)})
    assert r.status_code == 202 and not r.json()["rejected"], r.text
    return [a["id"] for a in r.json()["accepted"]]


def _queue_in_step(session, case_id):
    case = session.get(Case, case_id)
    entries = session.scalars(select(CaseTeam).where(CaseTeam.case_id == case_id)).all()
    assert entries
    for e in entries:
        assert (e.status, e.priority, e.last_message_at, e.sla_due_at) == \
            (case.status, case.priority, case.last_message_at, case.sla_due_at)
    return case


def test_a_case_row_knows_which_columns_changed_since_stored():
    case = CaseRow(7, "open", "normal", "kettle", 1, 2, 3, None, False, None, 1, BASE_TIME, ["a"])
    case.stored = case.values()
    assert case.changes()[0] == ()
    case.last_message_at, case.updated_at, case.tags = BASE_TIME + timedelta(minutes=1), BASE_TIME, ["a", "b"]
    assert case.changes()[0] == ("last_message_at", "tags", "updated_at")


def test_joining_messages_keep_the_case_and_its_queue_entries_in_step(client, runtime, drain):
    [first] = post(client, message(text="my order never arrived", author="ivy", minutes=1))
    drain()
    # Later messages on the same case: one moves only the time, one raises the priority, an older one moves nothing.
    post(client, message(text="still nothing, where is my order?", author="ivy", minutes=5))
    drain()
    post(client, message(text="My order never arrived and I will call my lawyer and sue", author="ivy", minutes=9))
    drain()
    post(client, message(text="where is my order", author="ivy", minutes=2))
    drain()
    with runtime.session_factory() as s:
        case_id = s.scalar(select(Message.case_id).where(Message.id == first))
        case = _queue_in_step(s, case_id)
        assert case.message_count == len(s.scalars(select(Message.id).where(Message.case_id == case_id)).all())
        assert case.last_message_at == BASE_TIME + timedelta(minutes=9)


def test_sync_queue_writes_only_the_fields_named(client, runtime, drain):
    [mid] = post(client, message(text="my order never arrived", author="jo"))
    drain()
    later = BASE_TIME + timedelta(days=1)
    with runtime.session_factory.begin() as s:
        case_id = s.scalar(select(Message.case_id).where(Message.id == mid))
        s.execute(update(CaseTeam).where(CaseTeam.case_id == case_id).values(priority="low"))
        case = s.get(Case, case_id)
        case.last_message_at = later
        s.flush()
        sync_queue(s, [case], ("last_message_at",))
    with runtime.session_factory() as s:
        entries = s.scalars(select(CaseTeam).where(CaseTeam.case_id == case_id)).all()
        assert {(e.priority, e.last_message_at) for e in entries} == {("low", later)}
