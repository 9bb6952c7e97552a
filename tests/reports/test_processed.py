"""The processed messages as the upkeep reads them (reports/processed.py): the triage fields from the
processing event's data, or from the message's triage where the event has none."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from onevoice.db import unit_of_work
from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.reports.processed import TRIAGE_FIELDS, processed_messages
from tests.factories import message

pytestmark = pytest.mark.both_databases

TEXTS = ("the router x is broken", "phone z and router x, thanks", "is it open?", "thanks, love it")


def test_the_event_carries_the_message_s_triage_fields_and_either_reads_the_same(session_factory, pipeline):
    mids = pipeline(*(message(channel="xcom", text=t, author=f"p{i}") for i, t in enumerate(TEXTS)))
    with session_factory() as s:
        triage = dict(s.execute(select(Message.id, Message.triage).where(Message.id.in_(mids))).all())
        data = dict(s.execute(select(Event.message_id, Event.data).where(
            Event.message_id.in_(mids), Event.kind == "message.processed")).all())
        top = s.scalar(select(func.max(Event.id)))
        from_events = processed_messages(s, 0, top)
    # Written by the pipeline in the order `reports.processed` reads them, with the values the message keeps.
    assert {m: d["triage"] for m, d in data.items()} == {m: [t[k] for k in TRIAGE_FIELDS] for m, t in triage.items()}
    assert any(row.products for rows in from_events[0].values() for row in rows)
    # An event without them (written before the pipeline put them there; emptied by an erasure or retention,
    # which keep the four fields in the message's triage): read from the message, the same.
    with unit_of_work(session_factory) as s:
        for e in s.scalars(select(Event).where(Event.message_id.in_(mids), Event.kind == "message.processed")):
            e.data = {}
    with session_factory() as s:
        assert processed_messages(s, 0, top) == from_events
