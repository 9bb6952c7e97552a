"""Advocacy tests reuse governance's organization (one person per role, channels xcom and mast) and add
customers with hand-written histories."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from onevoice.cases.models import Case, CaseTeam
from onevoice.cases.queue import queue_fields
from onevoice.channels.models import Channel
from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.db import unit_of_work, utcnow
from onevoice.governance.seed import seed_governance
from onevoice.messages.models import Message
from onevoice.teams.models import Team
from tests.governance.conftest import api_for, browser_for, gov_app, org, runtime  # noqa: F401 - fixtures

SENTIMENT = {"praise": "positive", "complaint": "negative", "question": "neutral"}


@pytest.fixture
def people(session_factory, org):  # noqa: F811
    from onevoice.governance.hooks import install

    install(session_factory)
    with unit_of_work(session_factory) as session:
        seed_governance(session)
    return org


def add_customer(session, name: str, history: list[tuple[str, str, int]], followers: int = 100,
                 channels: tuple[str, ...] = ("xcom",), lead: str = "support") -> int:
    """A contact with one identity per channel and messages (channel, intent, days ago) in one open case led
    by `lead`. Texts carry the intent ("recommend" in a praise's text makes it a recommendation)."""
    channel_ids = dict(session.execute(select(Channel.key, Channel.id)).all())
    contact = Contact(name=name, handle=f"@{name.lower()}", followers=followers)
    session.add(contact)
    session.flush()
    for key in channels:
        session.add(ContactIdentity(contact_id=contact.id, channel_id=channel_ids[key],
                                    external_id=f"{name}-{key}", handle=f"@{name.lower()}", followers=followers))
    case = Case(channel_id=channel_ids[channels[0]], contact_id=contact.id, subject=f"{name}'s case",
                lead_team_id=session.scalar(select(Team.id).where(Team.key == lead)), intent=history[0][1]
                if history else None, last_message_at=utcnow())
    session.add(case)
    session.flush()
    session.add(CaseTeam(case_id=case.id, team_id=case.lead_team_id, role="lead", **queue_fields(case)))
    for i, (channel, text, age) in enumerate(history):
        intent = "praise" if "love" in text or "recommend" in text else "complaint" if "broken" in text \
            else "question"
        at = utcnow() - timedelta(days=age)
        session.add(Message(channel_id=channel_ids[channel], external_id=f"{name}-{i}", direction="inbound",
                            kind="mention", text=text, created_at=at, status="processed", case_id=case.id,
                            contact_id=contact.id, author={"external_id": f"{name}-{channel}",
                                                           "handle": f"@{name.lower()}", "name": name},
                            triage={"intent": intent, "sentiment": SENTIMENT[intent],
                                    "complaint": intent == "complaint"}))
    session.flush()
    return contact.id
