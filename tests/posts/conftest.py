"""Publishing tests reuse governance's organization (one person per role) and add publishable channels.

Channels: `news` (sandbox, owned by Support), `brand` (sandbox, owned by Marketing) and `inbox-mail` (email:
replies only, owned by Support). Sandbox channels publish, delete and take media, and record what they sent
in `onevoice.connectors.sandbox.connector.SENT` by idempotency key.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from onevoice.channels.models import Channel
from onevoice.channels.service import add_channel
from onevoice.connectors.sandbox.connector import SENT
from onevoice.db import unit_of_work
from onevoice.governance.seed import seed_governance
from tests.governance.conftest import api_for, browser_for, gov_app, org, runtime  # noqa: F401 - fixtures


@pytest.fixture
def people(session_factory, org, settings):  # noqa: F811
    """The organization with governance's default rules and the publishing channels; the audit hook installed
    on the session factory as the app does."""
    from onevoice.governance.hooks import install

    install(session_factory)
    with unit_of_work(session_factory) as session:
        seed_governance(session)
        add_channel(session, "news", "sandbox", "News", config={"channel_key": "news"}, owner_team="support")
        add_channel(session, "brand", "sandbox", "Brand", config={"channel_key": "brand"}, owner_team="marketing")
        add_channel(session, "inbox-mail", "email", "Mailbox", owner_team="support",
                    config={"imap_host": "127.0.0.1", "smtp_host": "127.0.0.1", "username": "u", "password": "p",
                            "address": "help@acme.example"}, secret_key=settings.secret_key.get_secret_value())
    return org


@pytest.fixture(autouse=True)
def clean_sandbox():
    SENT.clear()
    yield
    SENT.clear()


def granted(session_factory, partner, *keys):
    """The partner as services see them with these channels granted (grants are stored by the access feature)."""
    with session_factory() as session:
        ids = set(session.scalars(select(Channel.id).where(Channel.key.in_(keys))))
    return dataclasses.replace(partner, channel_ids=frozenset(ids))


def sent_on(channel_key: str) -> list[dict]:
    return [r for r in SENT.values() if r["channel_key"] == channel_key]
