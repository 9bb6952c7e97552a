"""One person, Zelda, spread across everything OneVoice keeps: two platforms (linked), a thread, a reply to
her, notes about her, another customer and a colleague's note mentioning her, a delivery that could not be
read, a triage correction, an edit. Built through the real services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.contacts.models import ContactIdentity
from onevoice.contacts.service import link_contacts
from onevoice.db import unit_of_work
from onevoice.desk.notes import add_note
from onevoice.desk.replies import send_reply
from onevoice.messages.models import Message
from onevoice.pipeline.inbound import accept_from_connector, store_failure
from onevoice.pipeline.intake import accept_batch
from onevoice.triage.models import TriageCorrection

NAME, HANDLE = "Zelda Quibbleworth", "@zquibble"
MAST_ID, X_ID = "zq-7734251", "9988776655443"
TEXT = "my Zephyrblend order zq-order-5531 never arrived"
SECRET_WORDS = ("Zephyrblend", "zq-order-5531", "Marzipanova")  # words only Zelda wrote
NEEDLES = [NAME, HANDLE.lstrip("@"), MAST_ID, X_ID, "zqmsg-1001", "zqmsg-1002", "zqmsg-1003", *SECRET_WORDS]
START = datetime.now(UTC) - timedelta(hours=2)


def _msg(channel, ext, author_id, text, minutes, **extra) -> dict:
    return {"channel": channel, "external_id": ext, "kind": "mention", "text": text,
            "author": {"external_id": author_id, "handle": HANDLE, "name": NAME, "followers": 321},
            "created_at": (START + timedelta(minutes=minutes)).isoformat(), **extra}


def build(runtime, org, drain) -> dict:
    sf = runtime.session_factory
    with unit_of_work(sf) as s:
        accept_batch(s, [
            _msg("mast", "zqmsg-1001", MAST_ID, TEXT, 1, url="https://mast.example/@zquibble/1001",
                 raw={"account": {"acct": "zquibble", "display_name": NAME}, "content": TEXT},
                 attachments=[{"type": "image", "url": "https://files.example/zquibble.jpg", "alt": "a blender"}]),
            _msg("mast", "zqmsg-1003", MAST_ID, "still waiting, terrible, signed Zelda Quibbleworth", 3,
                 in_reply_to="zqmsg-1001"),
            _msg("xcom", "zqmsg-1002", X_ID, "Marzipanova flavour is broken too", 2),
            {"channel": "mast", "external_id": "bob-1", "kind": "mention", "created_at": START.isoformat(),
             "author": {"external_id": "bob-1", "handle": "@bob", "name": "Bob Stone"},
             "text": "@zquibble is right, Zelda Quibbleworth knows these blenders are broken"},
        ])
    drain()
    with unit_of_work(sf) as s:
        mast = s.scalar(select(Channel).where(Channel.key == "mast"))
        # She edits her first message on the platform: the text before goes into the case history.
        accept_from_connector(s, mast, [{**_msg("mast", "zqmsg-1001", MAST_ID, TEXT + " (edited)", 1),
                                         "edited": True}], 40_000)
        store_failure(s, mast, {"x-handle": "zquibble"},
                      b'{"account": {"acct": "zquibble", "display_name": "Zelda Quibbleworth"}', "not JSON")
    with unit_of_work(sf) as s:
        keep = s.scalar(select(ContactIdentity.contact_id).where(ContactIdentity.external_id == MAST_ID))
        other = s.scalar(select(ContactIdentity.contact_id).where(ContactIdentity.external_id == X_ID))
        link_contacts(s, keep, other, actor="ada@acme.test")
    with unit_of_work(sf) as s:
        cases = list(s.scalars(select(Case).where(Case.contact_id == keep).order_by(Case.id)))
        bob_case = s.scalar(select(Message.case_id).where(Message.external_id == "bob-1"))
        first = s.scalar(select(Message).where(Message.external_id == "zqmsg-1001"))
        add_note(s, org["lee"], cases[0].id, f"@legal please check: {NAME} says zq-order-5531 (Marzipanova too)")
        add_note(s, org["lee"], bob_case, f"Bob agrees with {HANDLE}")
        send_reply(s, org["lee"], cases[0].id, f"Hi {NAME}, we are sorry about zq-order-5531", confirm=True)
        s.add(TriageCorrection(message_id=first.id, field="intent", old_value="other", new_value="complaint",
                               text=first.text, actor="lee@acme.test"))
    return {"contact_id": keep, "case_ids": [c.id for c in cases], "bob_case": bob_case}
