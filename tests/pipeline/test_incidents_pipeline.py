"""The surge detector inside the processor: counted once per message, per batch, in its transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from tests.factories import message
from tests.scripted_triage import ScriptedTriager

from onevoice.cases.models import Case, CaseTeam, Incident, SurgeCount
from onevoice.db import utcnow
from onevoice.events.models import Event
from onevoice.incidents.surge import detect_surges, mark_counting_since
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
    # The detector has been counting for a day (a new installation learns for an hour first: see
    # tests/triage/test_incidents.py).
    with runtime.session_factory.begin() as s:
        mark_counting_since(s, int((utcnow() - timedelta(days=1)).timestamp()))
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


def _person_token(runtime, email: str, role: str, teams: list[str]) -> str:
    from onevoice.auth.tokens import create_token
    from onevoice.auth.users import create_user
    from onevoice.db import unit_of_work

    with unit_of_work(runtime.session_factory) as s:
        user = create_user(s, email, email.split("@")[0].title(), None, role, teams)
        return create_token(s, f"t-{email}", user_id=user.id)[1]


def _burst(client, drain, now, n=6):
    items = [message(text=f"still waiting for my refund #{i}", author=f"b{i}",
                     created_at=(now - timedelta(minutes=10 - i)).isoformat()) for i in range(n)]
    client.post("/api/v1/messages", json={"messages": items})
    drain()


def test_incidents_are_listed_with_status_and_duration_and_pr_closes_and_reopens_them(surge_runtime, client, drain):
    _burst(client, drain, utcnow())
    [item] = client.get("/api/v1/incidents").json()["items"]
    assert item["status"] == "open" and item["cases"] == 6 and item["closed_at"] is None
    assert item["duration_seconds"] >= 0 and item["duration"].endswith("min")
    heard = []
    surge_runtime.broker.publish = lambda events: heard.extend(events)

    support = {"Authorization": f"Bearer {_person_token(surge_runtime, 'sam@acme.test', 'responder', ['support'])}"}
    pr = {"Authorization": f"Bearer {_person_token(surge_runtime, 'pat@acme.test', 'responder', ['pr'])}"}
    partner = {"Authorization": f"Bearer {_person_token(surge_runtime, 'pia@acme.test', 'partner', ['marketing'])}"}
    url = f"/api/v1/incidents/{item['id']}"
    assert client.post(url + "/close", json={"reason": "over"}, headers=support).status_code == 403
    assert client.get("/api/v1/incidents", headers=partner).status_code == 403
    assert client.get("/api/v1/incidents", headers=support).status_code == 200  # everyone else may look
    assert client.post(url + "/close", json={"reason": " "}, headers=pr).status_code == 422  # say why
    r = client.post(url + "/close", json={"reason": "carrier fixed the refunds"}, headers=pr)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert heard == [{"type": "incident", "incident_id": item["id"], "topic": "refund", "status": "closed",
                      "change": "incident.closed", "actor": "pat@acme.test"}]
    assert client.post(url + "/close", json={"reason": "again"}, headers=pr).status_code == 409
    [closed] = client.get("/api/v1/incidents?status=closed").json()["items"]
    assert closed["closed_by"] == "pat@acme.test" and closed["close_reason"] == "carrier fixed the refunds"
    assert client.get("/api/v1/incidents?status=open").json()["items"] == []
    assert client.get("/api/v1/incidents?status=maybe").status_code == 422
    with surge_runtime.session_factory() as s:
        kinds = {e.kind for e in s.scalars(select(Event).where(Event.case_id.is_not(None)))}
    assert "incident.closed" in kinds  # in the history of the linked cases

    r = client.post(url + "/reopen", json={"reason": "it is back"}, headers=pr)
    assert r.status_code == 200 and r.json()["status"] == "open" and heard[-1]["change"] == "incident.reopened"
    assert client.get("/api/v1/incidents").json()["items"][0]["reopen_count"] == 1
    assert client.post(url + "/reopen", json={}, headers=pr).status_code == 409
    assert client.post("/api/v1/incidents/9999/close", json={"reason": "x"}, headers=pr).status_code == 404


def test_the_scheduler_job_closes_quiet_incidents_and_publishes(surge_runtime, client, drain):
    from onevoice.incidents.surge import close_quiet_job

    _burst(client, drain, utcnow())
    # Three hours pass in quiet: the incident's last activity and the counts move back in time.
    with surge_runtime.session_factory.begin() as s:
        incident = s.scalar(select(Incident))
        assert incident.status == "open"
        incident.opened_at = incident.last_activity_at = utcnow() - timedelta(hours=3)
        s.execute(update(SurgeCount).values(bucket=SurgeCount.bucket - 3 * 3600))
    heard: list = []
    [live] = close_quiet_job(surge_runtime.session_factory, heard.extend, quiet_minutes=60)
    assert heard == [live] and live["status"] == "closed"
    assert close_quiet_job(surge_runtime.session_factory, heard.extend, quiet_minutes=60) == []
    with surge_runtime.session_factory() as s:
        incident = s.scalar(select(Incident))
        assert incident.status == "closed" and incident.closed_by == "system"
