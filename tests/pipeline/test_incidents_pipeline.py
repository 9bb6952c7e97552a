"""The surge detector inside the processor: counted once per message, per batch, in its transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from tests.factories import message
from tests.scripted_triage import ScriptedTriager

from onevoice.cases.models import Case, CaseTeam, Incident, SurgeCount
from onevoice.db import utcnow
from onevoice.pipeline.incidents import detect_surges
from onevoice.pipeline.processor import Processor
from onevoice.routing.factory import build_router
from onevoice.teams.models import Team

pytestmark = pytest.mark.both_databases


class TopicTriager(ScriptedTriager):
    def one(self, item):
        r = super().one(item)
        if "refund" in item.text.lower():
            r.topics = ["refund"]
        return r


@pytest.fixture
def surge_runtime(runtime, settings):
    runtime._processor = Processor(runtime.session_factory, TopicTriager(),
                                   build_router(settings, runtime.session_factory), surge=detect_surges)
    return runtime


def test_a_burst_of_complaints_opens_an_incident_that_pr_sees(surge_runtime, client, drain):
    now = utcnow()
    items = [message(text=f"still waiting for my refund #{i}", author=f"u{i}",
                     created_at=(now - timedelta(minutes=10 - i)).isoformat()) for i in range(6)]
    r = client.post("/api/v1/messages", json={"messages": items})
    ids = [a["id"] for a in r.json()["accepted"]]
    drain()
    with surge_runtime.session_factory() as s:
        [incident] = s.scalars(select(Incident)).all()
        assert incident.topic == "refund" and incident.status == "open"
        cases = s.scalars(select(Case).where(Case.incident_id == incident.id)).all()
        assert len(cases) == 6 and {c.priority for c in cases} == {"high"}
        pr = s.scalar(select(Team.id).where(Team.key == "pr"))
        entries = s.scalars(select(CaseTeam).where(CaseTeam.team_id == pr)).all()
        assert len(entries) == 6 and {(e.role, e.priority) for e in entries} == {("collaborator", "high")}
        # The lead team's queue shows the raised priority too.
        assert {e.priority for e in s.scalars(select(CaseTeam).where(CaseTeam.role == "lead"))} == {"high"}
        counted = s.scalar(select(func.sum(SurgeCount.count)).where(SurgeCount.width == 300))
    assert counted == 6
    # Delivered again (at-least-once): already processed, so nothing is counted twice.
    surge_runtime.processor.process(ids)
    with surge_runtime.session_factory() as s:
        assert s.scalar(select(func.sum(SurgeCount.count)).where(SurgeCount.width == 300)) == 6
        assert s.scalar(select(func.count()).select_from(Incident)) == 1
