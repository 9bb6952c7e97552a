"""Erasure and access for one person, on SQLite and PostgreSQL: after `erase`, nothing of Zelda is found in any
column of any table (the database asked for its own tables), nor by search, nor in the full-text index; the
figures reports need are still there; the audit log names the request, not her, and still verifies."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, update

from onevoice.audit import log as audit
from onevoice.audit.models import AuditRecord
from onevoice.auth.models import User
from onevoice.cases.models import Case
from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.db import unit_of_work
from onevoice.errors import Forbidden, InvalidInput
from onevoice.inbox.search import matching_case_ids
from onevoice.messages.models import Message
from onevoice.pipeline.intake import accept_batch
from onevoice.privacy import access, erasure
from onevoice.privacy.models import PrivacyRequest
from tests.privacy import world
from tests.privacy.scan import find_everywhere, fts_terms

pytestmark = pytest.mark.both_databases


@pytest.fixture
def zelda(runtime, org, drain):
    return world.build(runtime, org, drain)


def test_the_world_really_holds_her_everywhere_before(runtime, zelda):
    """The scan finds her where the world put her: otherwise the test after erasure proves nothing."""
    hits = "\n".join(find_everywhere(runtime.engine, world.NEEDLES))
    for where in ("messages.text", "messages.author", "messages.raw", "messages.url", "messages.attachments",
                  "contacts.name", "contact_identities.external_id", "events.data", "notifications.text",
                  "inbound_failures.body", "triage_corrections.text", "conversations.root_external_id",
                  "messages.external_id", "messages.in_reply_to"):
        assert where in hits, where
    with runtime.session_factory() as s:
        assert matching_case_ids(s, "zquibble") and matching_case_ids(s, "Zephyrblend")


def test_erasure_leaves_nothing_of_her_in_any_table_or_the_search(runtime, org, zelda):
    with runtime.session_factory() as s:
        before = {"messages": s.scalar(select(func.count(Message.id))),
                  "cases": s.scalar(select(func.count(Case.id))),
                  "negative": s.scalar(select(func.count(Message.id)).where(Message.contact_id == zelda["contact_id"]))}
        sentiments = sorted((m.triage or {}).get("sentiment") or "" for m in s.scalars(
            select(Message).where(Message.contact_id == zelda["contact_id"])))
    # As the page, the API and the command do it: look first (read-only), then one short write transaction.
    result = erasure.erase_contact(runtime.session_factory, runtime.read_factory, org["ada"], zelda["contact_id"],
                                   reference="DSR-2026-041")
    assert result["messages"] == 3 and result["cases"] >= 1 and result["elsewhere"] >= 2

    assert find_everywhere(runtime.engine, world.NEEDLES) == []
    with runtime.session_factory() as s:
        for query in ("zquibble", "Quibbleworth", "Zephyrblend", "zq-order-5531", "Marzipanova", world.MAST_ID):
            assert matching_case_ids(s, query) == [], query
        # What reports count is still there: every message and case, her sentiment labels, the case's figures.
        assert s.scalar(select(func.count(Message.id))) == before["messages"]
        assert s.scalar(select(func.count(Case.id))) == before["cases"]
        kept = sorted((m.triage or {}).get("sentiment") or "" for m in s.scalars(
            select(Message).where(Message.contact_id == zelda["contact_id"])))
        assert kept == sentiments and "negative" in kept
        contact = s.get(Contact, zelda["contact_id"])
        assert contact.erased_at is not None and contact.name is None and contact.message_count == 3
        assert s.scalar(select(func.count()).select_from(ContactIdentity)
                        .where(ContactIdentity.contact_id == contact.id)) == 0
        # Bob's message is still Bob's, with her name taken out.
        bob = s.scalar(select(Message).where(Message.external_id == "bob-1"))
        assert bob.text == "[erased] is right, [erased] knows these blenders are broken"
        # One audit record, naming the request and its reference, and the chain still verifies.
        rec = s.scalar(select(AuditRecord).where(AuditRecord.action == "privacy.erase"))
        req = s.scalar(select(PrivacyRequest))
        assert rec.target == f"privacy_request:{req.id}" and rec.data["reference"] == "DSR-2026-041"
        assert audit.verify(s).ok
    if runtime.engine.dialect.name == "sqlite":
        terms = fts_terms(runtime.engine)
        for word in ("zquibble", "quibbleworth", "zephyrblend", "marzipanova", "5531"):
            assert word not in terms, word


def test_a_reference_naming_the_person_is_refused_and_only_admins_erase(runtime, org, zelda):
    with unit_of_work(runtime.session_factory) as s:
        with pytest.raises(InvalidInput, match="reference contains"):
            erasure.erase(s, org["ada"], zelda["contact_id"], reference="request of zquibble")
        with pytest.raises(Forbidden):
            erasure.erase(s, org["lee"], zelda["contact_id"], reference="DSR-1")
        with pytest.raises(Forbidden):
            access.export(s, org["lee"], zelda["contact_id"])


def test_export_holds_everything_about_her_and_is_recorded(runtime, org, zelda):
    with unit_of_work(runtime.session_factory) as s:
        doc = access.export(s, org["ada"], zelda["contact_id"], reference="SAR-12")
    text = json.dumps(doc)
    for needle in world.NEEDLES:
        assert needle in text, needle
    assert doc["contact"]["id"] == zelda["contact_id"]
    assert {i["external_id"] for i in doc["identities"]} == {world.MAST_ID, world.X_ID}
    mine = [m for m in doc["messages"] if m["written_by_contact"]]
    assert len(mine) == 3 and any(m["raw"] for m in mine) and any(m["attachments"] for m in mine)
    assert any(h["kind"] == "note" for h in doc["history"])
    assert any(m["direction"] == "outbound" for m in doc["messages"])
    assert doc["mentioned_elsewhere"].get("messages.text")  # Bob's message
    with runtime.session_factory() as s:
        rec = s.scalar(select(AuditRecord).where(AuditRecord.action == "privacy.export"))
        assert rec.data["reference"] == "SAR-12" and "zquibble" not in json.dumps(rec.data).lower()


def test_preview_counts_without_changing_anything(runtime, org, zelda):
    with runtime.session_factory() as s:
        counts = erasure.preview(s, org["ada"], zelda["contact_id"])
    assert counts["messages"] == 3 and counts["elsewhere"]["messages.text"] >= 1
    assert find_everywhere(runtime.engine, [world.NAME])  # still there


def test_erasure_takes_her_data_not_the_staff_who_answered_her(runtime, org, zelda):
    """A reply on her case carries who sent it (author: the organization, named by the sender's address). The demo
    wrote its replies with her contact id, and those were taken for hers: erasing her renamed the sender's account
    to "[erased]" (with a second sender, a 500 on the unique email) and swept the word "organization" everywhere.
    Only what she wrote names her."""
    with runtime.session_factory() as s:
        case_id = s.scalar(select(Case.id).where(Case.contact_id == zelda["contact_id"]).order_by(Case.id))
        first = s.scalar(select(Message).where(Message.case_id == case_id).order_by(Message.id))
        emails = dict(s.execute(select(User.id, User.email)).all())
    with unit_of_work(runtime.session_factory) as s:
        for n, sender in enumerate(("lee@acme.test", "sam@acme.test")):
            s.add(Message(channel_id=first.channel_id, external_id=f"our-reply-{n}", direction="outbound",
                          kind=first.kind, text="Thanks for telling us", status="sent", case_id=case_id,
                          contact_id=zelda["contact_id"], sent_by=sender, created_at=first.created_at,
                          author={"external_id": "organization", "name": sender}))
        s.add(Message(channel_id=first.channel_id, external_id="note-org", direction="inbound", kind="mention",
                      text="our organization thanks you", author={"external_id": "x9-someone"},
                      created_at=first.created_at, status="processed"))
    assert {"lee@acme.test", "sam@acme.test"} <= set(emails.values())
    result = erasure.erase_contact(runtime.session_factory, runtime.read_factory, org["ada"], zelda["contact_id"],
                                   reference="DSR-2026-042")
    assert result["messages"] == 3  # what she wrote, not our replies
    with runtime.session_factory() as s:
        assert dict(s.execute(select(User.id, User.email)).all()) == emails
        assert s.scalar(select(Message.text).where(Message.external_id == "note-org")) == \
            "our organization thanks you"
        assert sorted(s.scalars(select(Message.sent_by).where(Message.external_id.like("our-reply-%")))) == [
            "lee@acme.test", "sam@acme.test"]


def test_what_she_wrote_that_was_not_processed_yet_is_erased_too(runtime, org, zelda, drain):
    """A message of hers still waiting for the worker, or one whose processing failed, belongs to no contact
    yet (the pipeline links it when it processes it). Erasure found her messages by contact only, so these
    kept her words, and the waiting one, processed after the erasure, made a new contact of her from what was
    left. Now they are found by her platform ids (on any of our channels of that platform, as the pipeline
    matches authors), emptied and taken out of processing."""
    words = ("Quorvantis", "Brimblecombe")  # words only these two messages hold
    with unit_of_work(runtime.session_factory) as s:
        accept_batch(s, [
            world._msg("mast", "zqmsg-2001", world.MAST_ID, f"{words[0]} refund please", 90),
            world._msg("xcom", "zqmsg-2002", world.X_ID, f"{words[1]} is my street, send it there", 91),
            {"channel": "mast", "external_id": "carl-1", "kind": "mention", "created_at": world.START.isoformat(),
             "author": {"external_id": "carl-1", "handle": "@carl", "name": "Carl Ness"}, "text": "Carl waits"},
        ])
    with unit_of_work(runtime.session_factory) as s:  # her second one failed in the worker
        s.execute(update(Message).where(Message.external_id == "zqmsg-2002").values(status="failed", error="boom"))
    with runtime.session_factory() as s:
        assert erasure.preview(s, org["ada"], zelda["contact_id"])["messages"] == 5
        exported = json.dumps(access.export(s, org["ada"], zelda["contact_id"]))
    assert all(w in exported for w in words)  # access: what is held about her includes them

    result = erasure.erase_contact(runtime.session_factory, runtime.read_factory, org["ada"], zelda["contact_id"],
                                   reference="DSR-2026-043")
    assert result["messages"] == 5 and result["pending"] == 2
    assert find_everywhere(runtime.engine, [*world.NEEDLES, *words, "zqmsg-2001", "zqmsg-2002"]) == []
    with runtime.session_factory() as s:
        contacts = s.scalar(select(func.count(Contact.id)))
        rows = {m.text: m for m in s.scalars(select(Message).where(Message.contact_id == zelda["contact_id"]))}
    assert "" in rows and all(m.status != "accepted" for m in rows.values())
    drain()  # the worker goes on: Carl's message is processed, hers are not brought back
    with runtime.session_factory() as s:
        assert s.scalar(select(Message.status).where(Message.external_id == "carl-1")) == "processed"
        assert s.scalar(select(func.count(Contact.id))) == contacts + 1  # Carl, not a new her
        statuses = sorted(s.scalars(select(Message.status).where(Message.redacted_at.is_not(None),
                                                                  Message.direction == "inbound")))
    assert statuses == ["erased", "erased", "processed", "processed", "processed"]
    assert find_everywhere(runtime.engine, [*world.NEEDLES, *words]) == []
