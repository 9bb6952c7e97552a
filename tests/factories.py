"""Plain functions that build test data through the real services."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from onevoice.auth.tokens import create_token
from onevoice.channels.service import add_channel
from onevoice.db import unit_of_work
from onevoice.demo.seed import TEAMS
from onevoice.teams.service import add_team

_seq = itertools.count(1)
BASE_TIME = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def seed_org(session_factory, channels=("mast", "xcom", "mail"), kind="sandbox", config=None) -> str:
    """Teams of the demo organization, a few channels, and an API token (returned)."""
    with unit_of_work(session_factory) as session:
        for key, name in TEAMS.items():
            add_team(session, key, name)
        for key in channels:
            add_channel(session, key, kind, key.title(), config=dict(config or {}))
        _token, plaintext = create_token(session, "tests")
    return plaintext


def message(channel="mast", text="hello", author="ana", followers=100, kind="mention", in_reply_to=None,
            external_id=None, minutes=0, **extra) -> dict:
    n = next(_seq)
    item = {
        "channel": channel, "external_id": external_id or f"m{n}", "kind": kind,
        "author": {"external_id": author, "handle": f"@{author}", "name": author.title(), "followers": followers},
        "text": text, "created_at": (BASE_TIME + timedelta(minutes=minutes or n / 100)).isoformat(),
        "in_reply_to": in_reply_to, "url": f"https://example.invalid/{n}", "raw": {"n": n},
    }
    item.update(extra)
    return item
