"""The processor's look-ahead on SQLite: triage and routing worked out before the write transaction.

What it must keep: the answers are the ones the write transaction would have made (anything that changed in
between is worked out again), and a batch that dies in its write transaction leaves every message to be
processed again, once.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text, update
from tests.factories import message
from tests.scripted_triage import ScriptedTriager

from onevoice.contacts.models import Contact
from onevoice.events.models import Event
from onevoice.messages.models import Message, RoutingDecision
from onevoice.pipeline import processor as processor_module
from onevoice.pipeline.intake import accept_batch
from onevoice.pipeline.processor import CONTENDED_BATCHES, Processor
from onevoice.pipeline.stages import build_router

# The demo organization (teams, playbook); the look-ahead given explicitly works on both databases.
pytestmark = [pytest.mark.usefixtures("token"), pytest.mark.both_databases]


class CountingTriager(ScriptedTriager):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def triage_batch(self, items):
        self.seen += [i.text for i in items]
        return super().triage_batch(items)


class Between(Processor):
    """Runs `between()` after the look-ahead and before the write transaction (another writer's moment)."""

    between = None

    def _look_ahead(self, ids):
        ahead = super()._look_ahead(ids)
        if self.between is not None:
            self.between()
        return ahead


def _processor(runtime, cls=Processor, look_ahead=None):
    triager = CountingTriager()
    return cls(runtime.session_factory, triager, build_router(runtime.settings, runtime.session_factory),
               look_ahead=look_ahead), triager


def _accept(runtime, items) -> list[int]:
    with runtime.session_factory.begin() as s:
        result = accept_batch(s, items)
    assert not result.rejected
    return result.new_ids


def _stored(runtime, ids):
    with runtime.session_factory() as s:
        rows = s.execute(select(Message.id, Message.status, Message.triage, RoutingDecision.lead_team,
                                RoutingDecision.priority, RoutingDecision.reason)
                         .join(RoutingDecision, RoutingDecision.message_id == Message.id)
                         .where(Message.id.in_(ids)).order_by(Message.id)).all()
    return [tuple(r[1:]) for r in rows]


ITEMS = [
    dict(external_id="la-1", author="ana", text="my order never arrived, terrible"),
    dict(external_id="la-2", author="ana", text="still waiting for the refund"),
    dict(external_id="la-3", author="bo", text="love the new kettle, thanks"),
    dict(external_id="la-4", author="cy", text="are you hiring?"),
    dict(external_id="la-5", author="dee", text="I will call my lawyer and sue"),
]


def test_by_default_only_sqlite_looks_ahead_and_only_while_the_write_lock_is_contended(runtime, monkeypatch):
    processor, _ = _processor(runtime)
    if runtime.engine.dialect.name != "sqlite":
        assert processor.look_ahead is False
        return
    assert processor.look_ahead is None  # auto
    first = processor.process(_accept(runtime, [message(text="one")]))
    assert first.processed and "look-ahead (triage, route)" not in first.stages  # nobody else was writing
    holding, release = threading.Event(), threading.Event()

    def other_writer():  # a page saving, the batched API inserting: holds the write lock a while
        with runtime.session_factory.begin() as s:
            s.execute(text("SELECT 1"))
            holding.set()
            release.wait(5)
    ids = _accept(runtime, [message(text="two")])
    t = threading.Thread(target=other_writer)
    t.start()
    holding.wait(5)
    threading.Timer(0.1, release.set).start()
    waited = processor.process(ids)  # decided before it waited: no look-ahead for this one
    t.join()
    assert waited.processed and "look-ahead (triage, route)" not in waited.stages
    after = processor.process(_accept(runtime, [message(text="three")]))
    assert after.processed and "look-ahead (triage, route)" in after.stages
    # Uncontended again: it stops after a while. (A loaded machine can delay getting even a free lock by a
    # few ms; here only the 100 ms another writer held it counts.)
    monkeypatch.setattr(processor_module, "CONTENDED_SECONDS", 0.09)
    for _ in range(CONTENDED_BATCHES):
        processor.process(_accept(runtime, [message(text="more")]))
    last = processor.process(_accept(runtime, [message(text="last")]))
    assert last.processed and "look-ahead (triage, route)" not in last.stages


def test_answers_are_the_same_with_and_without_the_look_ahead_and_triaged_once(runtime):
    first = _accept(runtime, [message(**i) for i in ITEMS])
    with_it, triager = _processor(runtime, look_ahead=True)
    outcome = with_it.process(first)
    assert sorted(outcome.processed) == sorted(first)
    # Triaged once, in the look-ahead; the write transaction took its answers.
    assert sorted(triager.seen) == sorted(i["text"] for i in ITEMS)
    # The same texts from other authors' twins, processed without a look-ahead, get the same answers.
    twins = _accept(runtime, [message(**{**i, "external_id": i["external_id"] + "-twin"}) for i in ITEMS])
    without, _ = _processor(runtime, look_ahead=False)
    without.process(twins)
    a, b = _stored(runtime, first), _stored(runtime, twins)
    assert [r[0] for r in a] == ["processed"] * len(ITEMS)
    assert [(r[1]["intent"], r[2]) for r in a] == [(r[1]["intent"], r[2]) for r in b]


def test_what_changed_after_the_look_ahead_is_worked_out_again(runtime):
    ids = _accept(runtime, [message(**i) for i in ITEMS])
    processor, triager = _processor(runtime, Between, look_ahead=True)

    def edit():  # an edit arrives (a platform's message_edits) between the two
        with runtime.session_factory.begin() as s:
            s.execute(update(Message).where(Message.id == ids[3]).values(text="I want a refund, this is broken"))
    processor.between = edit
    processor.process(ids)
    # The edited message was triaged twice (look-ahead, then again with its new text); the others once.
    assert triager.seen.count("are you hiring?") == 1
    assert triager.seen.count("I want a refund, this is broken") == 1
    stored = _stored(runtime, ids)
    assert stored[3][1]["intent"] == "complaint"  # the new text's answer, not the look-ahead's ("job_inquiry")
    assert all(r[0] == "processed" for r in stored)


def test_a_contact_made_vip_in_between_is_routed_as_vip(runtime):
    [seed] = _accept(runtime, [message(external_id="vip-0", author="vera", text="hello there")])
    plain, _ = _processor(runtime, look_ahead=False)
    plain.process([seed])
    with runtime.session_factory() as s:
        contact_id = s.scalar(select(Message.contact_id).where(Message.id == seed))
    # The same text from her before she is a VIP, for comparison.
    [before] = _accept(runtime, [message(external_id="vip-b", author="vera", text="my order never arrived")])
    plain.process([before])
    [mid] = _accept(runtime, [message(external_id="vip-1", author="vera", text="my order never arrived")])
    processor, _ = _processor(runtime, Between, look_ahead=True)

    def make_vip():
        with runtime.session_factory.begin() as s:
            s.execute(update(Contact).where(Contact.id == contact_id).values(vip=True))
    processor.between = make_vip
    processor.process([mid])
    # What routing would say for a VIP now, made fresh without a look-ahead on a twin message.
    [twin] = _accept(runtime, [message(external_id="vip-2", author="vera", text="my order never arrived")])
    plain.process([twin])
    ours, fresh, not_vip = _stored(runtime, [mid]), _stored(runtime, [twin]), _stored(runtime, [before])
    assert "VIP" in fresh[0][4] and "VIP" not in not_vip[0][4]  # the playbook routes a VIP differently
    # The VIP's routing, not the look-ahead's (the reasons differ only in how many times she wrote before).
    assert "VIP" in ours[0][4] and ours[0][2:4] == fresh[0][2:4]


class Dies(BaseException):
    """Not an Exception: the processor does not catch it (as with a process killed mid-batch, nothing after
    the failing statement runs), and the transaction is rolled back."""


def test_a_batch_that_dies_in_its_write_transaction_is_processed_again_once(runtime):
    ids = _accept(runtime, [message(**i) for i in ITEMS])
    dying, _ = _processor(runtime, look_ahead=True)

    def record(*_args, **_kwargs):
        raise Dies()
    dying._record = record  # the cases and conversations are written by now; the messages' rows are next
    with pytest.raises(Dies):
        dying.process(ids)
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.id.in_(ids),
                                                                        Message.status == "accepted")) == len(ids)
        assert s.scalar(select(func.count()).select_from(RoutingDecision)
                        .where(RoutingDecision.message_id.in_(ids))) == 0
    again, _ = _processor(runtime, look_ahead=True)
    outcome = again.process(ids)
    assert sorted(outcome.processed) == sorted(ids)
    assert again.process(ids).processed == []  # nothing left to take
    with runtime.session_factory() as s:
        per_message = dict(s.execute(select(RoutingDecision.message_id, func.count()).where(
            RoutingDecision.message_id.in_(ids)).group_by(RoutingDecision.message_id)).all())
        events = dict(s.execute(select(Event.message_id, func.count()).where(
            Event.message_id.in_(ids), Event.kind == "message.processed").group_by(Event.message_id)).all())
        cases = {mid: cid for mid, cid in s.execute(select(Message.id, Message.case_id).where(Message.id.in_(ids)))}
    assert per_message == {i: 1 for i in ids} and events == {i: 1 for i in ids}
    assert all(cases.values())


class Keeps(Processor):
    """Keeps its last look-ahead, to compare with what the write transaction stored."""

    kept = None

    def _look_ahead(self, ids):
        self.kept = super()._look_ahead(ids)
        return self.kept


def test_the_triage_document_encoded_in_the_look_ahead_is_stored_as_it_was_encoded(runtime):
    import json

    ids = _accept(runtime, [message(**i) for i in ITEMS])
    processor, _ = _processor(runtime, Keeps, look_ahead=True)
    processor.process(ids)
    assert sorted(processor.kept.documents) == sorted(ids)
    with runtime.session_factory() as s:
        stored = dict(s.execute(select(Message.id, Message.triage).where(Message.id.in_(ids))).all())
    for mid, (result, encoded) in processor.kept.documents.items():
        # A JSON object, not a string holding one: encoded once, passed through by the column's encoder.
        assert stored[mid] == json.loads(encoded) == json.loads(json.dumps(result.to_dict()))
