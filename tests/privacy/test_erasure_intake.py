"""The embedded default answers a webhook once the delivery is in the intake journal (pipeline/journal.py); the
worker stores it as messages a moment later. An erasure or an export taken in between must see it: left in
the journal, what she just wrote would be stored whole after her erasure, and a new contact made of her."""

from __future__ import annotations

import json
import os
import sqlite3
import time

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from onevoice.channels.service import add_channel
from onevoice.cli.main import app as cli
from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.db import unit_of_work
from onevoice.errors import Conflict
from onevoice.messages.models import Message
from onevoice.privacy import access, erasure
from tests.governance.conftest import PASSWORD
from tests.privacy.scan import find_everywhere
from tests.web.helpers import sign_in

PAGE = "104873926541280"
HER, OTHER = "7311298455612345", "7311298455698765"
SECRET = "florbinquist"  # a word only she writes


def _delivery(author: str, name: str, n: int, text: str) -> bytes:
    now = int(time.time())
    post = f"{PAGE}_1029384756102938"
    value = {"from": {"id": author, "name": name}, "post_id": post, "comment_id": f"1029384756102938_{n}",
             "created_time": now, "item": "comment", "parent_id": post, "verb": "add", "message": text}
    return json.dumps({"object": "page", "entry": [{"id": PAGE, "time": now,
                                                    "changes": [{"field": "feed", "value": value}]}]}).encode()


@pytest.fixture
def fb(runtime, org, settings):
    if runtime.journal is None:
        pytest.skip("the intake journal is the embedded default's (SQLite file, no Redis)")
    with unit_of_work(runtime.session_factory) as s:
        channel = add_channel(s, "fb", "meta", config={"app_secret": "x" * 32, "verify_token": "v",
                                                        "page_access_token": "EAAB", "page_id": PAGE},
                              secret_key=settings.secret_key.get_secret_value())
        return channel.id


def _her_contact(runtime) -> int:
    with runtime.session_factory() as s:
        return s.scalar(select(ContactIdentity.contact_id).where(ContactIdentity.external_id == HER))


def _journal_bytes(path: str) -> bytes:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return b"".join(open(p, "rb").read() for p in (path, path + "-wal") if os.path.exists(p)).lower()


def test_what_she_wrote_a_moment_ago_is_still_in_the_journal_and_is_erased(runtime, org, fb, drain):
    journal = runtime.journal
    journal.append(fb, {}, _delivery(HER, "Florence Binquist", 1, "my order never came")).result(10)
    runtime.ingest()
    drain()
    contact_id = _her_contact(runtime)
    assert contact_id
    # Answered 200 (in the journal), not yet stored: hers, and another customer's in the same moment.
    journal.append(fb, {}, _delivery(HER, "Florence Binquist", 2, f"still nothing, {SECRET} order 88")).result(10)
    journal.append(fb, {}, _delivery(OTHER, "Otto Other", 3, "love the new kettle")).result(10)
    assert journal.backlog() == 2
    assert SECRET.encode() in _journal_bytes(journal.path)  # there before: the check below can fail

    result = erasure.erase_contact(runtime.session_factory, runtime.read_factory, org["ada"], contact_id,
                                   reference="DSR-9", journal=journal, ingest=runtime.ingest)

    assert result["messages"] == 2 and result["pending"] == 1
    assert journal.backlog() == 0
    assert find_everywhere(runtime.engine, [SECRET, HER, "Florence Binquist", "Binquist"]) == []
    assert SECRET.encode() not in _journal_bytes(journal.path)  # nor in the journal's file, freed pages included
    drain()  # the worker processes what is left: the other customer's, not hers again
    with runtime.session_factory() as s:
        other = s.scalar(select(Message).where(Message.external_id == "1029384756102938_3"))
        assert other.status == "processed" and other.text == "love the new kettle"
        assert s.scalar(select(func.count(Contact.id)).where(Contact.erased_at.is_(None),
                                                              Contact.name == "Florence Binquist")) == 0
        statuses = sorted(s.scalars(select(Message.status).where(Message.contact_id == contact_id)))
        assert statuses == ["erased", "processed"]


def test_her_export_holds_what_she_wrote_a_moment_ago(runtime, org, fb, drain):
    runtime.journal.append(fb, {}, _delivery(HER, "Florence Binquist", 1, "my order never came")).result(10)
    runtime.ingest()
    drain()
    runtime.journal.append(fb, {}, _delivery(HER, "Florence Binquist", 2, f"where is it {SECRET}")).result(10)
    waiting = erasure.store_received(runtime.journal, runtime.ingest)
    assert waiting == []
    with unit_of_work(runtime.session_factory) as s:
        doc = access.export(s, org["ada"], _her_contact(runtime), "SAR-3", waiting=waiting)
    assert sorted(m["text"] for m in doc["messages"]) == ["my order never came", f"where is it {SECRET}"]


def test_a_delivery_naming_her_that_cannot_be_read_yet_stops_the_erasure_and_changes_nothing(runtime, org, fb, drain):
    runtime.journal.append(fb, {}, _delivery(HER, "Florence Binquist", 1, "my order never came")).result(10)
    runtime.ingest()
    drain()
    contact_id = _her_contact(runtime)
    runtime.journal.append(fb, {}, _delivery(HER, "Florence Binquist", 2, f"{SECRET} again")).result(10)
    runtime.journal.append(fb, {}, _delivery(OTHER, "Otto Other", 3, "hello")).result(10)

    def platform_down(limit):  # as ingest does when the platform cannot be read: counted, left for later
        for d in runtime.journal.pending(limit):
            runtime.journal.retry_later(d.seq)
        return []

    with pytest.raises(Conflict, match="not stored yet"):
        erasure.erase_contact(runtime.session_factory, runtime.read_factory, org["ada"], contact_id,
                              reference="DSR-10", journal=runtime.journal, ingest=platform_down)
    with runtime.session_factory() as s:
        assert s.get(Contact, contact_id).erased_at is None
    # Another customer's delivery waiting is no reason to refuse hers: only one that names her.
    runtime.ingest()
    assert runtime.journal.backlog() == 0
    result = erasure.erase_contact(runtime.session_factory, runtime.read_factory, org["ada"], contact_id,
                                   reference="DSR-10", journal=runtime.journal, ingest=platform_down)
    assert result["messages"] == 2


def test_the_command_line_erasure_stores_the_server_s_journal_first(runtime, org, fb, drain, settings):
    runtime.journal.append(fb, {}, _delivery(HER, "Florence Binquist", 1, "my order never came")).result(10)
    runtime.ingest()
    drain()
    contact_id = _her_contact(runtime)
    runtime.journal.append(fb, {}, _delivery(HER, "Florence Binquist", 2, f"{SECRET} where")).result(10)
    runtime.engine.dispose()
    r = CliRunner().invoke(cli, ["contact", "erase", str(contact_id), "--reference", "DSR-11", "--yes",
                                 "--database-url", settings.database_url])
    assert r.exit_code == 0, r.output
    assert "2 message(s)" in r.output
    assert runtime.journal.backlog() == 0
    assert find_everywhere(runtime.engine, [SECRET, HER]) == []


def test_the_page_s_erasure_and_export_store_the_journal_first(runtime, org, fb, drain):
    from fastapi.testclient import TestClient

    from onevoice.app import create_app
    from onevoice.governance.seed import seed_governance

    runtime.journal.append(fb, {}, _delivery(HER, "Florence Binquist", 1, "my order never came")).result(10)
    runtime.ingest()
    drain()
    contact_id = _her_contact(runtime)
    with unit_of_work(runtime.session_factory) as s:
        seed_governance(s)
    with TestClient(create_app(runtime.settings, runtime=runtime, start_worker=False)) as client:
        assert sign_in(client, "ada@acme.test", PASSWORD).status_code == 303
        client.headers["X-CSRF-Token"] = client.get("/inbox").text.split('data-csrf="', 1)[1].split('"', 1)[0]
        runtime.journal.append(fb, {}, _delivery(HER, "Florence Binquist", 2, f"{SECRET} at last?")).result(10)
        r = client.post(f"/governance/privacy/contacts/{contact_id}/export", data={"reference": "SAR-4"})
        assert r.status_code == 200 and SECRET in r.text
        runtime.journal.append(fb, {}, _delivery(HER, "Florence Binquist", 3, f"{SECRET} hello??")).result(10)
        r = client.post(f"/governance/privacy/contacts/{contact_id}/erase",
                        data={"reference": "DSR-12", "confirm": "yes"}, follow_redirects=False)
        assert r.status_code == 303, r.text
    assert runtime.journal.backlog() == 0
    assert find_everywhere(runtime.engine, [SECRET, HER]) == []
