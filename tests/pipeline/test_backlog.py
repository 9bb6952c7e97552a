"""What waits to be processed: counted from the status index, up to a bound, with the intake journal's deliveries."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from tests.factories import message

from onevoice.db import unit_of_work
from onevoice.messages.models import Message
from onevoice.pipeline.backlog import behind, waiting
from onevoice.pipeline.intake import accept_batch

# The demo organization's channels (the `token` fixture seeds it).
pytestmark = [pytest.mark.usefixtures("token"), pytest.mark.both_databases]


class Journal:
    def __init__(self, count: int) -> None:
        self.count = count

    def waiting(self, enough: int) -> tuple[int, float | None]:
        return min(self.count, enough), None


def test_accepted_messages_and_journaled_deliveries_are_what_waits(session_factory):
    assert waiting(session_factory, 10) == 0
    with unit_of_work(session_factory) as s:
        ids = accept_batch(s, [message(channel="xcom", text=f"hello {i}", author=f"a{i}") for i in range(5)]).new_ids
    assert waiting(session_factory, 10) == 5
    assert waiting(session_factory, 3) == 3  # counted up to the bound, never all of them
    assert waiting(session_factory, 10, Journal(4)) == 9
    assert behind(session_factory, at=5) and not behind(session_factory, at=6)
    assert behind(session_factory, Journal(1), at=6)
    with unit_of_work(session_factory) as s:  # processed (or failed) messages no longer wait
        s.execute(update(Message).where(Message.id.in_(ids[:2])).values(status="processed"))
    assert waiting(session_factory, 10) == 3
