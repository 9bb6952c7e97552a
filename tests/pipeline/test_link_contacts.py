"""Linking two contacts (one person on two platforms) moves every row that points at the merged one: identities,
messages, cases and conversations. contacts/ finds those columns in the metadata instead of importing the
features that own them, so this checks that none is left behind (the merged contact is deleted)."""

from __future__ import annotations

from sqlalchemy import func, select
from tests.factories import message, seed_org
from tests.scripted_triage import scripted_runtime

from onevoice.cases.models import Case, Conversation
from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.contacts.service import link_contacts
from onevoice.db import unit_of_work
from onevoice.messages.models import Message
from onevoice.pipeline.intake import accept_batch
from onevoice.worker.runner import EmbeddedWorker


def test_linking_moves_identities_messages_cases_and_conversations(settings):
    runtime = scripted_runtime(settings)
    seed_org(runtime.session_factory)
    with unit_of_work(runtime.session_factory) as session:
        accept_batch(session, [message(channel="mast", author="ana", text="my order never arrived"),
                               message(channel="xcom", author="ana-x", text="still no answer about my order")])
    EmbeddedWorker(runtime.processor, runtime.session_factory, runtime.broker.publish).drain(timeout=60)
    with unit_of_work(runtime.session_factory) as session:
        keep, merged = sorted(session.scalars(select(Contact.id)))
        link_contacts(session, keep, merged)
    with runtime.read_factory() as session:
        assert session.get(Contact, merged) is None
        for model in (ContactIdentity, Message, Case, Conversation):
            assert session.scalar(select(func.count()).select_from(model).where(model.contact_id == merged)) == 0
        assert session.scalar(select(func.count()).select_from(ContactIdentity)
                              .where(ContactIdentity.contact_id == keep)) == 2
        assert session.scalar(select(func.count()).select_from(Message).where(Message.contact_id == keep)) == 2
        assert session.scalar(select(func.count()).select_from(Case).where(Case.contact_id == keep)) >= 1
