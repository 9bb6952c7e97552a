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


def test_the_api_shows_an_event_without_the_upkeep_s_copy(session_factory, pipeline):
    """The copy is the upkeep's: the message's and the case's answers show the event as before (the golden
    answers caught it when it first leaked)."""
    from onevoice.cases.service import get_case
    from onevoice.messages.service import get_message

    mid = pipeline(message(channel="xcom", text="the router x is broken", author="p9"))[0]
    with session_factory() as s:
        stored = s.scalar(select(Event.data).where(Event.message_id == mid, Event.kind == "message.processed"))
        assert "triage" in stored
        shown = [e.data for e in get_message(s, mid).events if e.kind == "message.processed"]
        assert shown and all("triage" not in d and d["intent"] == stored["intent"] for d in shown)
        case_id = s.scalar(select(Message.case_id).where(Message.id == mid))
        case_events = [e.data for e in get_case(s, case_id).events if e.kind == "message.processed"]
        assert case_events and all("triage" not in d for d in case_events)
