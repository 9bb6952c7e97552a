"""The demo has advocates and shareable items, created once."""

from __future__ import annotations

from sqlalchemy import func, select

from onevoice.advocacy import service
from onevoice.advocacy.models import ShareableItem
from onevoice.auth.principal import SYSTEM
from onevoice.db import unit_of_work
from onevoice.demo.seed import seed_demo
from onevoice.messages.models import Message
from onevoice.pipeline.processor import Processor
from onevoice.pipeline.stages import build_router
from tests.scripted_triage import ScriptedTriager


def test_the_demo_seeds_advocates_and_items_once(session_factory, settings):
    for _ in range(2):
        with unit_of_work(session_factory) as s:
            seed_demo(s)
    with session_factory() as s:
        assert [i.status for i in s.scalars(select(ShareableItem).order_by(ShareableItem.id))] == \
            ["approved", "approved", "pending_approval"]
        ids = list(s.scalars(select(Message.id).where(Message.status == "accepted")))
    assert len(ids) == 9
    Processor(session_factory, ScriptedTriager(), build_router(settings, session_factory)).process(ids)
    with session_factory() as s:
        data = service.overview(s, SYSTEM)
        assert [r["name"] for r in data["advocates"]][:1] == ["Mira Okonkwo"]
        assert "Jana Novak" in [r["name"] for r in data["detractors"]]
        assert {r["name"] for r in data["marked"]} == {"Mira Okonkwo", "Jana Novak"}
        assert s.scalar(select(func.count()).select_from(Message).where(Message.case_id.is_not(None))) == 9
