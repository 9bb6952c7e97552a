"""The full-text index of messages: accepted messages are indexed by intake, one statement per batch
(messages.search_index); every other message by the insert trigger (migration 0031_search_by_batch)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, text
from tests.factories import message

from onevoice.channels.models import Channel
from onevoice.db import utcnow
from onevoice.inbox.search import matching_case_ids
from onevoice.messages.models import Message

pytestmark = pytest.mark.both_databases


def _indexed(session, word: str) -> list[int]:
    return list(session.scalars(text("SELECT rowid FROM messages_search WHERE messages_search MATCH :q "
                                     "ORDER BY rowid"), {"q": word}))


def test_accepted_messages_are_found_once_each(client, runtime, drain, db_backend):
    items = [message(text=f"my zanzibarkettle number {i} leaks", author=f"quill{i}") for i in range(3)]
    r = client.post("/api/v1/messages", json={"messages": items})
    again = client.post("/api/v1/messages", json={"messages": items[:1]})  # a redelivery: stored and indexed once
    assert r.status_code == again.status_code == 202
    ids = sorted(a["id"] for a in r.json()["accepted"])
    assert again.json()["accepted"][0]["duplicate"]
    drain()
    with runtime.session_factory() as session:
        if db_backend == "sqlite":
            assert _indexed(session, "zanzibarkettle") == ids
            assert _indexed(session, "quill1") == [ids[1]]  # the author's handle and name, as before
            assert session.scalar(text("SELECT count(*) FROM messages_search")) == \
                session.scalar(select(func.count()).select_from(Message))
        cases = set(session.scalars(select(Message.case_id).where(Message.id.in_(ids))))
        assert set(matching_case_ids(session, "zanzibarkettle")) == cases
        assert matching_case_ids(session, "zanzibark") and matching_case_ids(session, "quill2")


@pytest.mark.sqlite_only
def test_other_messages_are_indexed_by_the_trigger(runtime, token, db_backend):
    with runtime.session_factory.begin() as session:
        channel = session.scalar(select(Channel.id))
        session.execute(insert(Message.__table__).values(
            channel_id=channel, external_id="outbound:1", direction="outbound", kind="comment", status="queued",
            text="our reply about the marmaladeoven", author={"handle": "@us", "name": "Acme"}, created_at=utcnow()))
    with runtime.session_factory() as session:
        mid = session.scalar(select(Message.id).where(Message.external_id == "outbound:1"))
        assert _indexed(session, "marmaladeoven") == [mid]
        assert _indexed(session, "acme") == [mid]
