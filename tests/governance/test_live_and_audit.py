"""The smaller holes of issue 11 (item 10): live page events for the outbox and incidents reached partners outside
their grant; incident closing and reopening were not audited; contact merges recorded no actor.

Uses the route walk's world: the partner (Marketing) is granted `sbx` only; the Support case is on `sbx`, a
Marketing case on `sbx2` is outside her grant, and her own case is Marketing's on `sbx`."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from onevoice.audit.models import AuditRecord
from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.cases import actions
from onevoice.cases.models import Incident
from onevoice.contacts.models import Contact
from onevoice.db import unit_of_work, utcnow
from onevoice.events.models import Event
from onevoice.incidents import service as incidents
from onevoice.live import api as live_api
from onevoice.live import pages as live_pages
from onevoice.messages.models import Message
from onevoice.outbox import service as outbox
from onevoice.outbox.models import OutboxJob
from onevoice.outbox.sender import deliver_due
from onevoice.web.session import Viewer
from tests.governance.test_route_walk import clients

pytestmark = pytest.mark.both_databases


def run(coroutine):
    """Run a coroutine on its own loop in its own thread: the browser tests' Playwright keeps an event loop
    running in the main thread for the whole session, where asyncio.run would refuse."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class OpenPage:
    """A browser that stays connected (what `_stream` asks of its request)."""

    async def is_disconnected(self) -> bool:
        return False


def person(runtime, email: str):
    with runtime.session_factory() as s:
        return principal_for(s, s.scalar(select(User).where(User.email == email)))


def failing_sends(runtime, world) -> list[dict]:
    """Real outbox events: the Support case's failed reply sent again, and a reply on the sbx2 Marketing case."""
    with unit_of_work(runtime.session_factory) as s:
        outbox.retry(s, world["retry_message_id"])
        outside = s.get(Message, world["foreign_reply_id"])  # a Marketing reply; put it on the sbx2 case
        outside.case_id = world["outside_case"]
        outside.channel_id = s.scalar(select(Message.channel_id).where(Message.case_id == world["outside_case"]))
        job = s.scalar(select(OutboxJob).where(OutboxJob.message_id == outside.id))
        job.case_id, job.channel_id, job.status, job.next_attempt_at = outside.case_id, outside.channel_id, "queued", \
            utcnow()
    return [e for e in deliver_due(runtime.session_factory, secret_key="x" * 32) if e]


def own_case_change(runtime, world) -> dict:
    """A change on the partner's own case by Lee: she must hear this one (the end of what she is sent)."""
    with unit_of_work(runtime.session_factory) as s:
        return actions.set_priority(s, person(runtime, "lee@acme.test"), world["partner_case"], "high")


def incident_closed(runtime, world) -> dict:
    with unit_of_work(runtime.session_factory) as s:
        return incidents.close_by_hand(s, person(runtime, "lee@acme.test"), world["incident_id"], "calm again")


async def heard(stream, runtime, events: list[dict], last_case: int) -> list[dict]:
    """Publish `events` to a live stream and return what it sent, up to the event about `last_case`."""
    out: list[dict] = []
    nxt = asyncio.ensure_future(stream.__anext__())
    first = (await nxt).encode()  # ServerSentEvent, as EventSourceResponse writes it
    assert first.startswith(b"retry") or first.startswith(b": connected")
    nxt = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.05)  # the stream subscribes before anything is published
    runtime.broker.publish(events)
    while True:
        chunk = (await asyncio.wait_for(nxt, 20)).encode()
        if chunk.startswith(b"event: "):
            out.append(json.loads(chunk.split(b"data: ", 1)[1]))
            if out[-1].get("case_id") == last_case:
                break
        nxt = asyncio.ensure_future(stream.__anext__())
    await stream.aclose()
    return out


def test_a_partners_live_page_hears_nothing_outside_her_grant(gov_app, runtime, world):
    """The reported leak: outbox events (sent or failed replies) carried no teams and reached every open page,
    partners' included; incident events did too. Her page must hear only about her own case."""
    events = [*failing_sends(runtime, world), incident_closed(runtime, world), own_case_change(runtime, world)]
    assert {e["case_id"] for e in events if e["type"] == "case.updated"} >= {world["case_id"], world["outside_case"]}
    pia = Viewer(principal=person(runtime, "pia@acme.test"), csrf_token="", session_token="")
    page = live_pages._stream(OpenPage(), runtime, pia, None)
    got = run(heard(page, runtime, events, world["partner_case"]))
    assert [(e["type"], e["case_id"]) for e in got] == [("case.updated", world["partner_case"])]
    assert got[0]["actor"] == "staff"  # who acted, not their address
    # Staff still hear their team's sends and the incident (Sam, Support), and not Marketing's.
    sam = Viewer(principal=person(runtime, "sam@acme.test"), csrf_token="", session_token="")
    last = {"type": "case.updated", "case_id": -1, "teams": ["support"]}
    sam_heard = run(heard(live_pages._stream(OpenPage(), runtime, sam, None), runtime, [*events, last], -1))
    assert world["case_id"] in {e["case_id"] for e in sam_heard if e["mine"]}
    assert "incident" in {e["type"] for e in sam_heard}
    assert not {world["outside_case"], world["partner_case"]} & {e["case_id"] for e in sam_heard}


def test_a_partners_api_stream_names_nobody(gov_app, runtime, world):
    pia = person(runtime, "pia@acme.test")
    response = run(live_api.stream(OpenPage(), None, runtime, pia))
    got = run(heard(response.body_iterator, runtime, [own_case_change(runtime, world)],
                            world["partner_case"]))
    assert [e["actor"] for e in got] == ["staff"]


def test_incident_closing_and_reopening_are_audited(gov_app, runtime, world):
    people = clients(gov_app, runtime)
    lee = people["coordinator"][1]
    incident = world["incident_id"]
    assert lee.post(f"/api/v1/incidents/{incident}/close", json={"reason": "calm again"}).status_code == 200
    assert lee.post(f"/api/v1/incidents/{incident}/reopen", json={"reason": "it is back"}).status_code == 200
    with unit_of_work(runtime.session_factory) as s:  # and the detector closes it when back to normal
        s.get(Incident, incident).opened_at = utcnow() - timedelta(hours=3)
    from onevoice.incidents.surge import close_quiet_job

    assert close_quiet_job(runtime.session_factory, lambda events: None, 60)
    with runtime.session_factory() as s:
        records = [(r.action, r.actor, r.target, r.ip) for r in s.scalars(
            select(AuditRecord).where(AuditRecord.action.like("incident.%")).order_by(AuditRecord.seq))]
        whys = [r.data.get("why") or r.data.get("reason") for r in s.scalars(
            select(AuditRecord).where(AuditRecord.action.like("incident.%")).order_by(AuditRecord.seq))]
    target = f"incident:{incident}"
    assert records == [("incident.close", "lee@acme.test", target, "testclient"),
                       ("incident.reopen", "lee@acme.test", target, "testclient"),
                       ("incident.close", "system", target, None)]
    assert whys[:2] == ["calm again", "it is back"] and whys[2].startswith("back to normal")


def test_a_contact_merge_records_who_merged(gov_app, runtime, world):
    with unit_of_work(runtime.session_factory) as s:
        other = Contact(name="Ana (mail)", handle="ana@example.org")
        s.add(other)
        s.flush()
        other_id = other.id
    ada = clients(gov_app, runtime)["admin"][1]
    r = ada.post(f"/api/v1/contacts/{world['contact_id']}/link", json={"other": other_id})
    assert r.status_code == 200
    with runtime.session_factory() as s:
        assert s.scalar(select(Event.actor).where(Event.kind == "contact.linked")) == "ada@acme.test"
        record = s.scalar(select(AuditRecord).where(AuditRecord.action == "contact.link"))
        assert record.actor == "ada@acme.test" and record.target == f"contact:{world['contact_id']}"
        assert record.data["merged"] == other_id


def test_replies_name_their_sender_and_a_partner_reads_no_address(gov_app, runtime, world):
    """A reply records its sender's address as its author's name (outbox.draft_reply): people read the name,
    a partner never the address; a reply with no name at all (one the platform sent back) reads "Us"."""
    with unit_of_work(runtime.session_factory) as s:
        parent = s.scalar(select(Message).where(Message.case_id == world["partner_case"],
                                                Message.direction == "inbound").limit(1))
        for n, author in enumerate(({"external_id": "organization", "handle": "sbx", "name": "lena@acme.test"},
                                    {"external_id": "organization"})):
            s.add(Message(channel_id=parent.channel_id, external_id=f"out-named-{n}", direction="outbound",
                          kind=parent.kind, text=f"reply {n}", author=author, created_at=utcnow(), status="sent",
                          case_id=world["partner_case"], sent_by="lena@acme.test"))
    people = clients(gov_app, runtime)
    page = people["coordinator"][0].get(f"/cases/{world['partner_case']}")
    assert page.status_code == 200
    assert "<b>Lena Brandt</b> <span class=\"muted\">replied</span>" in page.text
    assert "<b>Us</b> <span class=\"muted\">replied</span>" in page.text
    browser, api = people["partner"]
    for r in (browser.get(f"/cases/{world['partner_case']}"), api.get(f"/api/v1/cases/{world['partner_case']}")):
        assert r.status_code == 200 and "reply 0" in r.text
        assert "lena@acme.test" not in r.text and "Lena Brandt" in r.text
    names = [m["author"]["name"] for m in api.get(f"/api/v1/cases/{world['partner_case']}").json()["messages"]
             if m["direction"] == "outbound" and m["text"].startswith("reply")]
    assert names == ["Lena Brandt", None]
