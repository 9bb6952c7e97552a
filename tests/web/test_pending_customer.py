"""A case pending on the customer is resolved after days of silence, once, with the reason in its history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from onevoice.auth.principal import SYSTEM
from onevoice.cases.actions import set_status
from onevoice.cases.models import Case
from onevoice.cases.pending import resolve_silent_job
from onevoice.db import unit_of_work, utcnow
from onevoice.desk.notes import add_note
from onevoice.events.models import Event
from tests.factories import message

pytestmark = pytest.mark.both_databases


def test_silent_pending_cases_are_resolved_once_and_say_why(runtime, post, browser_for):
    factory = runtime.session_factory
    ids = post(*(message(author=who, text=f"my order {who} never arrived") for who in
                 ("silent", "recent", "busy", "open", "noted")))
    silent, recent, busy, still_open, noted = ids
    with unit_of_work(factory) as s:
        for case_id in (silent, recent, busy, noted):
            set_status(s, SYSTEM, case_id, "pending_customer")
    with unit_of_work(factory) as s:
        now = utcnow()
        for case_id, days in ((silent, 8), (recent, 6), (busy, 8), (still_open, 30), (noted, 9)):
            s.get(Case, case_id).updated_at = now - timedelta(days=days)
    with unit_of_work(factory) as s:
        add_note(s, SYSTEM, noted, "called the customer, they will send a photo")  # activity restarts the count
    post(message(author="busy", text="here is the photo of the broken box"))  # the customer answered: open again

    published = []
    assert resolve_silent_job(factory, published.extend, days=0) == 0  # 0: never
    assert resolve_silent_job(factory, published.extend, days=7) == 1
    assert resolve_silent_job(factory, published.extend, days=7) == 0  # once
    with factory() as s:
        status = {i: s.get(Case, i).status for i in ids}
        event = s.scalar(select(Event).where(Event.case_id == silent, Event.kind == "case.status")
                         .order_by(Event.id.desc()))
        resolved_at = s.get(Case, silent).resolved_at
    assert status == {silent: "resolved", recent: "pending_customer", busy: "open", still_open: "open",
                      noted: "pending_customer"}
    assert event.actor == "system" and event.data == {"from": "pending_customer", "to": "resolved",
                                                      "reason": "no answer from the customer in 7 days"}
    assert resolved_at is not None
    assert [(u["case_id"], u["status"], u["change"]) for u in published] == [(silent, "resolved", "case.status")]
    page = browser_for("lee@acme.test").get(f"/cases/{silent}").text
    assert "no answer from the customer in 7 days" in page
