"""/api/v1/reports/objectives: the page's objectives through the API (scopes reports:read and reports:write), with
the page's rules: managers set and remove their own teams' targets, coordinators and admins any."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onevoice.auth.models import User
from onevoice.auth.tokens import create_token
from onevoice.db import unit_of_work

pytestmark = pytest.mark.both_databases
URL = "/api/v1/reports/objectives"


def client(app, session_factory, email: str, scopes: list[str]) -> TestClient:
    with unit_of_work(session_factory) as s:
        user_id = s.scalar(select(User.id).where(User.email == email))
        token = create_token(s, f"t-{email}-{'-'.join(scopes)}", user_id=user_id, scopes=scopes)[1]
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_a_manager_sets_reads_and_removes_their_teams_objective(gov_app, session_factory):
    mia = client(gov_app, session_factory, "mia@acme.test", ["reports:read", "reports:write"])
    made = mia.post(URL, json={"team": "support", "metric": "service.first_response_bh_median_s",
                               "comparator": "<=", "target": 3600})
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["team"], body["target"], body["target_text"]) == ("support", 3600, "at most 1.0 h")
    assert body["label"] == "First response, median (business hours)" and body["created_by"]
    # one target per team and figure: set again, the same objective moves
    again = mia.post(URL, json={"team": "support", "metric": "service.first_response_bh_median_s",
                                "comparator": "<=", "target": 1800}).json()
    assert again["id"] == body["id"] and again["target_text"] == "at most 30 min"
    listed = mia.get(URL).json()
    assert [(o["id"], o["target"]) for o in listed] == [(body["id"], 1800)]
    # the report shows it with its progress, on the same figure
    report = mia.get("/api/v1/reports").json()
    assert [(o["id"], o["metric"]) for o in report["objectives"]] == [(body["id"], body["metric"])]
    assert mia.delete(f"{URL}/{body['id']}").status_code == 204
    assert mia.get(URL).json() == []
    assert mia.delete(f"{URL}/{body['id']}").status_code == 404
    assert mia.delete(f"{URL}/{10**30}").status_code == 422 and mia.delete(f"{URL}/x").status_code == 422


def test_who_may_set_what(gov_app, session_factory):
    mia = client(gov_app, session_factory, "mia@acme.test", ["reports:read", "reports:write"])
    lee = client(gov_app, session_factory, "lee@acme.test", ["reports:write"])
    eve = client(gov_app, session_factory, "eve@acme.test", ["reports:read", "reports:write"])
    target = {"metric": "advocacy.advocate_count", "comparator": ">=", "target": 3}
    assert mia.post(URL, json={**target, "team": "legal"}).status_code == 403  # not her team
    assert mia.post(URL, json=target).status_code == 403  # nor the organization's
    assert eve.post(URL, json={**target, "team": "support"}).status_code == 403  # executives read, do not set
    org = lee.post(URL, json=target)
    assert org.status_code == 201 and org.json()["team"] is None
    assert mia.delete(f"{URL}/{org.json()['id']}").status_code == 403
    # a token without reports:write reads but does not set; one without reports:read does not read
    reader = client(gov_app, session_factory, "lee@acme.test", ["reports:read"])
    assert reader.post(URL, json=target).status_code == 403
    assert lee.get(URL).status_code == 403
    assert [o["team"] for o in reader.get(URL).json()] == [None]


@pytest.mark.parametrize("body, reason", [
    ({"metric": "service.nope", "comparator": ">=", "target": 1}, "objectives are set on one of"),
    ({"metric": "service.first_response_sla", "comparator": ">=", "target": 1.5}, "between"),
    ({"metric": "service.first_response_sla", "comparator": ">=", "target": "NaN"}, "finite"),
    ({"metric": "leads.found", "comparator": ">=", "target": -1}, "not negative"),
    ({"metric": "leads.found", "comparator": ">=", "target": 1, "team": "nobody"}, "unknown team"),
    ({"metric": "leads.found", "comparator": "==", "target": 1}, "comparator"),
    ({"metric": "<script>alert(1)</script>" * 3, "comparator": ">=", "target": 1}, "metric"),
])
def test_refused_objectives_say_why_and_change_nothing(gov_app, session_factory, body, reason):
    lee = client(gov_app, session_factory, "lee@acme.test", ["reports:read", "reports:write"])
    r = lee.post(URL, json=body)
    assert r.status_code == 422 and reason in r.text, r.text
    assert lee.get(URL).json() == []
