"""A platform delivering again a message that was erased with its author (a webhook retried with other bytes, a
poll after a channel reconnects, an import) must not store it again: before, its platform id had become a
token, so intake saw a new message and stored her text, name and ids whole, as a new contact of her."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from onevoice.channels.models import Channel, InboundFailure
from onevoice.db import unit_of_work
from onevoice.messages import erased as erased_messages
from onevoice.messages.models import ErasedMessage, Message
from onevoice.pipeline.inbound import accept_from_connector
from onevoice.pipeline.intake import accept_batch
from onevoice.privacy import erasure
from tests.privacy import world
from tests.privacy.scan import find_everywhere

pytestmark = pytest.mark.both_databases


@pytest.fixture
def erased_zelda(runtime, org, drain):
    built = world.build(runtime, org, drain)
    erasure.erase_contact(runtime.session_factory, runtime.read_factory, org["ada"], built["contact_id"],
                          reference="DSR-77")
    assert find_everywhere(runtime.engine, world.NEEDLES) == []
    return built


def _again(text: str = world.TEXT + " (sent again)") -> dict:
    # The same platform id, other bytes: not a byte-identical retry the journal's digest would absorb.
    return world._msg("mast", "zqmsg-1001", world.MAST_ID, text, 1)


def _count(runtime, model) -> int:
    with runtime.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_an_erased_message_delivered_again_is_refused_and_kept_nowhere(runtime, org, drain, erased_zelda):
    messages, failures = _count(runtime, Message), _count(runtime, InboundFailure)
    with unit_of_work(runtime.session_factory) as s:
        result = accept_batch(s, [_again(), world._msg("xcom", "zqmsg-1002", world.X_ID, "Marzipanova again", 2)])
    assert result.accepted == [] and [r["index"] for r in result.rejected] == [0, 1]
    assert all(r["error"] == erased_messages.ERASED for r in result.rejected)
    assert result.failures == [] and result.to_dict()["rejected"][0] == {"index": 0, "error": erased_messages.ERASED}
    # Through a connector's path (webhook, poll): refused and not kept as a failure to review either.
    with unit_of_work(runtime.session_factory) as s:
        mast = s.scalar(select(Channel).where(Channel.key == "mast"))
        again = accept_from_connector(s, mast, [{**_again(), "edited": True}, _again()], 40_000)
    assert again.new_ids == []
    drain()
    assert (_count(runtime, Message), _count(runtime, InboundFailure)) == (messages, failures)
    assert find_everywhere(runtime.engine, world.NEEDLES) == []


def test_only_her_erased_messages_are_refused(runtime, org, drain, erased_zelda):
    """The same platform id on another channel is another message, and what she writes after the erasure is new:
    both are stored (she contacted the organization again)."""
    with unit_of_work(runtime.session_factory) as s:
        result = accept_batch(s, [world._msg("xcom", "zqmsg-1001", "someone-else", "a different post", 5),
                                  world._msg("mast", "zqmsg-2001", world.MAST_ID, "hello again", 6)])
    assert [a["external_id"] for a in result.accepted if not a["duplicate"]] == ["zqmsg-1001", "zqmsg-2001"]
    assert result.rejected == []


def test_the_database_keeps_a_digest_not_the_platform_id(runtime, erased_zelda):
    with runtime.session_factory() as s:
        rows = s.execute(select(ErasedMessage.channel_id, ErasedMessage.digest)).all()
    assert len(rows) == 3 and all(len(d) == 64 and not d.startswith("zq") for _, d in rows)
    assert {d for _, d in rows} == {erased_messages.digest(x) for x in ("zqmsg-1001", "zqmsg-1002", "zqmsg-1003")}


def test_nobody_erased_costs_one_look_and_refuses_nothing(runtime, org):
    with runtime.session_factory() as s:
        assert erased_messages.erased(s, [(1, "a"), (2, "b")]) == set()
        erased_messages.record(s, [(1, "a")])
        erased_messages.record(s, [(1, "a"), (1, "b")])  # twice: kept once
        assert erased_messages.erased(s, [(1, "a"), (2, "a"), (1, "c")]) == {(1, "a")}
        assert s.scalar(select(func.count()).select_from(ErasedMessage)) == 2
        many = [(3, f"k{i}") for i in range(1500)]  # more than one IN list holds
        erased_messages.record(s, many)
        erased_messages.record(s, many)
        assert s.scalar(select(func.count()).select_from(ErasedMessage)) == 1502
        assert erased_messages.erased(s, many[:5] + [(4, "k1")]) == set(many[:5])
        s.rollback()


def test_the_api_says_why_it_refused(runtime, org, erased_zelda):
    from fastapi.testclient import TestClient

    from onevoice.app import create_app
    from onevoice.auth.tokens import create_token

    with unit_of_work(runtime.session_factory) as s:
        _token, plaintext = create_token(s, "redelivery")
    with TestClient(create_app(runtime.settings, runtime=runtime, start_worker=False)) as client:
        r = client.post("/api/v1/messages", json={"messages": [_again()]},
                        headers={"Authorization": f"Bearer {plaintext}"})
    assert r.status_code == 202, r.text  # as for any batch: what was stored, and what was refused and why
    assert r.json()["rejected"] == [{"index": 0, "error": erased_messages.ERASED}] and r.json()["accepted"] == []
