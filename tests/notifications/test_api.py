"""/api/v1/notifications: a person's subscriptions and the coordinator's SLA thresholds through the API, with the
scopes notifications:read and notifications:write; the same rules as the settings page, and bad input gets a 4xx
that says what is wrong, with nothing stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onevoice.auth.models import User
from onevoice.auth.tokens import create_token
from onevoice.db import unit_of_work
from onevoice.notifications.models import AlertRule, NotificationPreference

pytestmark = pytest.mark.both_databases
SUBS, RULES = "/api/v1/notifications/subscriptions", "/api/v1/notifications/thresholds"


def token_client(gov_app, session_factory, name: str | None, scopes: list[str]) -> TestClient:
    with unit_of_work(session_factory) as s:
        user_id = s.scalar(select(User.id).where(User.email == f"{name}@acme.test")) if name else None
        plaintext = create_token(s, f"n-{name}-{'-'.join(scopes)}", scopes=scopes, user_id=user_id)[1]
    return TestClient(gov_app, headers={"Authorization": f"Bearer {plaintext}"})


def test_a_person_reads_and_changes_their_subscriptions(gov_app, session_factory, api_for, browser_for):
    mia = api_for("mia")  # a manager: digest, incidents and SLA alerts, no thresholds
    assert mia.get(SUBS).json() == {
        "weekly_digest": False, "incident_alerts": False, "sla_alerts": False, "alert_email": True,
        "offers": {"weekly_digest": True, "incident_alerts": True, "sla_alerts": True, "rules": False}}
    r = mia.patch(SUBS, json={"weekly_digest": True, "sla_alerts": True})
    assert r.status_code == 200 and r.json()["weekly_digest"] is True and r.json()["sla_alerts"] is True
    r = mia.patch(SUBS, json={"alert_email": False})  # the others stay as they are
    assert {k: v for k, v in r.json().items() if k != "offers"} == {
        "weekly_digest": True, "incident_alerts": False, "sla_alerts": True, "alert_email": False}
    # The page shows what the API set.
    page = browser_for("mia").get("/me/notifications").text
    assert 'name="weekly_digest" value="1" checked' in page and 'name="alert_email" value="1" >' in page
    assert mia.patch(SUBS, json={}).json()["weekly_digest"] is True  # nothing asked, nothing changed


def test_what_a_role_does_not_offer_and_bad_bodies_are_refused_with_nothing_stored(gov_app, session_factory,
                                                                                  api_for):
    sam, pia = api_for("sam"), api_for("pia")
    r = sam.patch(SUBS, json={"weekly_digest": True})  # a responder reads no report
    assert r.status_code == 403 and r.json() == {"detail": "the responder role cannot subscribe to weekly digest"}
    assert pia.patch(SUBS, json={"incident_alerts": True}).status_code == 403  # partners see no incidents
    for body, why in (({"weekly_digest": "<script>alert(1)</script>"}, "weekly_digest: Input should be a valid"),
                      ({"push_alerts": True}, "push_alerts: Extra inputs are not permitted"),
                      ([True], "Input should be a valid dictionary")):
        r = sam.patch(SUBS, json=body)
        assert r.status_code == 422 and why in r.json()["detail"], (body, r.text)
    r = sam.patch(SUBS, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    operator = api_for(None)  # a token that acts as nobody
    for r in (operator.get(SUBS), operator.patch(SUBS, json={"incident_alerts": True})):
        assert r.status_code == 403 and "without a person" in r.json()["detail"]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(NotificationPreference)) == 0


def test_the_coordinator_sets_thresholds_on_either_figure(gov_app, session_factory, api_for, browser_for):
    lee = api_for("lee")
    assert lee.get(RULES).json() == {"items": []}
    r = lee.post(RULES, json={"team": "support", "threshold_percent": 90, "days": 7})
    assert r.status_code == 200
    first = r.json()
    assert {k: first[k] for k in ("metric", "figure", "team", "team_name", "threshold_percent", "days", "enabled",
                                  "firing", "last_value_percent", "checked_at", "set_by")} == {
        "metric": "first_response_sla", "figure": "First-response SLA attainment", "team": "support",
        "team_name": "Customer Support", "threshold_percent": 90.0, "days": 7, "enabled": True, "firing": False,
        "last_value_percent": None, "checked_at": None, "set_by": "lee@acme.test"}
    second = lee.post(RULES, json={"metric": "resolution_sla", "team": "support", "threshold_percent": 75.5,
                                   "days": 14}).json()
    org = lee.post(RULES, json={"metric": "resolution_sla", "threshold_percent": 80}).json()
    assert org["team"] is None and org["days"] == 7
    # Set again: the same rule changes (one per figure and scope).
    again = lee.post(RULES, json={"team": "support", "threshold_percent": 85, "days": 7, "enabled": False}).json()
    assert again["id"] == first["id"] and again["threshold_percent"] == 85 and again["enabled"] is False
    listed = lee.get(RULES).json()["items"]
    assert [(t["id"], t["threshold_percent"]) for t in listed] == [(org["id"], 80), (first["id"], 85),
                                                                  (second["id"], 75.5)]
    page = browser_for("lee").get("/me/notifications").text  # the page lists what the API set
    assert page.count('data-metric="resolution_sla"') == 2 and "75 %" not in page and "76 %" in page


@pytest.mark.parametrize("body, why", [
    ({"team": "nope", "threshold_percent": 90}, "unknown team 'nope'"),
    ({"team": "<script>alert(1)</script>", "threshold_percent": 90}, "unknown team '<script>alert(1)</script>'"),
    ({"team": "x" * 65, "threshold_percent": 90}, "team: String should have at most 64 characters"),
    ({"threshold_percent": 0}, "threshold_percent: Input should be greater than 0"),
    ({"threshold_percent": -5}, "threshold_percent: Input should be greater than 0"),
    ({"threshold_percent": 100.5}, "threshold_percent: Input should be less than or equal to 100"),
    ({"threshold_percent": "ninety"}, "threshold_percent: Input should be a valid number"),
    ({}, "threshold_percent: Field required"),
    ({"threshold_percent": 90, "days": 0}, "days: Input should be greater than or equal to 1"),
    ({"threshold_percent": 90, "days": 400}, "days: Input should be less than or equal to 90"),
    ({"threshold_percent": 90, "metric": "reopen_rate"}, "metric: Input should be 'first_response_sla' or "
                                                         "'resolution_sla'"),
    ({"threshold_percent": 90, "window": 7}, "window: Extra inputs are not permitted"),
])
def test_bad_thresholds_get_a_clear_422_and_store_nothing(gov_app, session_factory, api_for, body, why):
    r = api_for("lee").post(RULES, json=body)
    assert r.status_code == 422 and why in r.json()["detail"], r.text
    with session_factory() as s:
        assert s.scalar(select(func.count(AlertRule.id))) == 0


def test_nan_and_a_nul_in_the_team_are_refused(gov_app, session_factory, api_for):
    lee = api_for("lee")
    r = lee.post(RULES, content=b'{"threshold_percent": NaN}', headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    r = lee.post(RULES, json={"team": "sup\x00port", "threshold_percent": 90})
    assert r.status_code == 422, r.text
    with session_factory() as s:
        assert s.scalar(select(func.count(AlertRule.id))) == 0


def test_thresholds_are_the_coordinators_and_scopes_are_enforced(gov_app, session_factory, api_for):
    for name in ("mia", "sam", "eve", "pia"):
        client = api_for(name)
        assert client.get(RULES).status_code == 403, name
        r = client.post(RULES, json={"threshold_percent": 90})
        assert r.status_code == 403 and "coordinator or an admin" in r.json()["detail"], name
    read = token_client(gov_app, session_factory, "lee", ["notifications:read"])
    write = token_client(gov_app, session_factory, "lee", ["notifications:write"])
    family = token_client(gov_app, session_factory, "lee", ["notifications:*"])
    other = token_client(gov_app, session_factory, "lee", ["reports:read"])
    assert read.get(RULES).status_code == 200 and read.get(SUBS).status_code == 200
    r = read.post(RULES, json={"threshold_percent": 90})
    assert r.status_code == 403 and "lacks the scope 'notifications:write'" in r.json()["detail"]
    assert read.patch(SUBS, json={"incident_alerts": True}).status_code == 403
    assert write.get(SUBS).status_code == 403 and write.patch(SUBS, json={"incident_alerts": True}).status_code == 200
    assert write.post(RULES, json={"threshold_percent": 90}).status_code == 200
    assert family.get(RULES).json()["items"][0]["threshold_percent"] == 90
    assert other.get(SUBS).status_code == 403 and other.get(RULES).status_code == 403
    assert TestClient(gov_app).get(SUBS).status_code == 401


def test_the_page_sets_either_figure_through_the_same_rule(gov_app, session_factory, browser_for, api_for):
    lee = browser_for("lee")
    form = {"csrf_token": lee.csrf, "team": "legal", "threshold": "70", "days": "10", "enabled": "1"}
    r = lee.post("/me/notifications/rules", data={**form, "metric": "resolution_sla"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/me/notifications?done=rule"
    assert lee.post("/me/notifications/rules", data=form, follow_redirects=False).status_code == 303  # first response
    r = lee.post("/me/notifications/rules", data={**form, "metric": "<b>nope</b>"})
    assert r.status_code == 422 and "&lt;b&gt;" not in r.text and "<b>nope" not in r.text
    assert "first_response_sla, resolution_sla" in r.text
    items = api_for("lee").get(RULES).json()["items"]
    assert [(t["team"], t["metric"], t["threshold_percent"], t["days"]) for t in items] == [
        ("legal", "first_response_sla", 70, 10), ("legal", "resolution_sla", 70, 10)]
    page = lee.get("/me/notifications").text
    assert '<option value="resolution_sla">Resolution SLA attainment</option>' in page
