"""Alerts with hand-made data: an incident opening, SLA attainment falling below the coordinator's threshold.
Subscribers hear once in the app and by email; not again while the condition stays true; again after it
recovered and fell once more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from onevoice.cases.models import Case, Incident
from onevoice.db import unit_of_work, utcnow
from onevoice.errors import Forbidden, InvalidInput
from onevoice.events.models import Event
from onevoice.notifications import alerts, service
from onevoice.notifications.alerts import check_alerts
from onevoice.notifications.models import Alert
from onevoice.reports.upkeep import upkeep_job
from tests.factories import BASE_TIME, message

# SQLAlchemy's deprecations are errors here: the alerts read rows the 2.1 way (no Result.tuples()).
pytestmark = [pytest.mark.both_databases, pytest.mark.filterwarnings("error::sqlalchemy.exc.SADeprecationWarning")]


def test_an_incident_opening_alerts_subscribers_once(settings, session_factory, subscribe, told, mailed):
    subscribe(sam={"incident_alerts": True},  # in the app and by email (the default)
              lee={"incident_alerts": True, "alert_email": False},  # in the app only
              mia={"sla_alerts": True})  # not subscribed to incidents
    with unit_of_work(session_factory) as s:
        s.add(Incident(topic="checkout", summary="payment page down", opened_at=utcnow(), last_activity_at=utcnow()))
        # Opened two days ago and still open: from before, not announced.
        before = utcnow() - timedelta(days=2)
        s.add(Incident(topic="old", opened_at=before, last_activity_at=before))
    assert check_alerts(session_factory, settings) == {"incident": 1, "sla": 0}
    assert check_alerts(session_factory, settings) == {"incident": 0, "sla": 0}  # the next tick: nothing again
    text = "Incident opened on “checkout”: payment page down"
    assert told("sam@acme.test") == [text] and told("lee@acme.test") == [text]
    assert told("mia@acme.test") == []
    assert mailed() == [("sam@acme.test", "OneVoice alert: incident: checkout")]
    # It closes and comes back: a new alert.
    with unit_of_work(session_factory) as s:
        incident = s.scalar(select(Incident).where(Incident.topic == "checkout"))
        incident.reopen_count, incident.last_activity_at = 1, utcnow()
    assert check_alerts(session_factory, settings)["incident"] == 1
    assert told("sam@acme.test")[-1] == "Incident opened again on “checkout”: payment page down"
    with session_factory() as s:
        assert s.scalar(select(func.count(Alert.id))) == 2


def test_sla_alert_fires_once_per_fall(settings, session_factory, org, subscribe, told, mailed, monkeypatch):
    """The figure goes 95 %, 80 %, 70 %, 92 %, 85 %, 85 % against a 90 % threshold: two alerts (at 80 and at
    the second fall to 85), none while it stays below, none on recovering."""
    subscribe(lee={"sla_alerts": True}, eve={"sla_alerts": True, "alert_email": False},
              mia={"sla_alerts": True})  # a manager of Support: the organization's figure is not hers
    with unit_of_work(session_factory) as s:
        service.set_rule(s, org["lee"], None, 90, 7)
    figures = iter([0.95, 0.80, 0.70, 0.92, 0.85, 0.85])
    monkeypatch.setattr(alerts, "measure", lambda session, rule, now: next(figures))
    raised = [check_alerts(session_factory, settings)["sla"] for _ in range(6)]
    assert raised == [0, 1, 0, 0, 1, 0]
    expected = ["First-response SLA attainment for the organization over the last 7 days is 80 %, below the 90 % "
                "threshold.", "First-response SLA attainment for the organization over the last 7 days is 85 %, "
                "below the 90 % threshold."]
    assert told("lee@acme.test") == expected and told("eve@acme.test") == expected
    assert told("mia@acme.test") == []
    assert [to for to, _ in mailed()] == ["lee@acme.test", "lee@acme.test"]
    with session_factory() as s:
        rule = service.list_rules(s)[0]
        assert rule.firing is True and rule.last_value_percent == 85.0


def test_sla_alert_from_real_cases_and_a_team_rule(settings, session_factory, pipeline, org, subscribe, told):
    """Hand-made cases through the pipeline: two Support complaints on Friday 20 November, not answered by their
    due time (missed), then answered in time (met)."""
    pipeline(message(channel="xcom", author="ann", text="my order never arrived", minutes=10),
             message(channel="xcom", author="bob", text="my order never arrived either", minutes=20))
    upkeep_job(session_factory)
    subscribe(lee={"sla_alerts": True}, mia={"sla_alerts": True})
    with unit_of_work(session_factory) as s:
        service.set_rule(s, org["lee"], "support", 50, 3)  # Support's first responses, the last 3 days
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert check_alerts(session_factory, settings, now=now)["sla"] == 1
    text = "First-response SLA attainment for Customer Support over the last 3 days is 0 %, below the 50 % threshold."
    assert told("mia@acme.test") == [text] and told("lee@acme.test") == [text]
    assert check_alerts(session_factory, settings, now=now)["sla"] == 0
    # Both answered five minutes after they came in (the reply's event makes the reports recompute them).
    with unit_of_work(session_factory) as s:
        for case in s.scalars(select(Case)):
            case.first_response_at = BASE_TIME + timedelta(minutes=25)
            s.add(Event(kind="reply.sent", case_id=case.id, actor="outbox", data={}))
    upkeep_job(session_factory)
    assert check_alerts(session_factory, settings, now=now)["sla"] == 0  # recovered: 100 %, no alert
    with session_factory() as s:
        assert service.list_rules(s)[0].firing is False and service.list_rules(s)[0].last_value_percent == 100.0
    # A third complaint nobody answers: 2 of 3 met (67 %) stays above 50 %; a stricter threshold then falls.
    pipeline(message(channel="xcom", author="cy", text="my order never arrived, third time", minutes=30))
    upkeep_job(session_factory)
    assert check_alerts(session_factory, settings, now=now)["sla"] == 0
    with unit_of_work(session_factory) as s:
        service.set_rule(s, org["lee"], "support", 80, 3)
    assert check_alerts(session_factory, settings, now=now)["sla"] == 1
    assert told("mia@acme.test")[-1].endswith("is 67 %, below the 80 % threshold.")


def test_first_response_and_resolution_thresholds_fall_and_recover_apart(settings, session_factory, org, subscribe,
                                                                         told, monkeypatch):
    """The organization's first response (threshold 90 %) and resolution (80 %), measured together each minute:
    each fires once per fall and re-arms when it recovers, whatever the other does."""
    subscribe(lee={"sla_alerts": True})
    with unit_of_work(session_factory) as s:
        service.set_rule(s, org["lee"], None, 90, 7)
        service.set_rule(s, org["lee"], None, 80, 7, metric="resolution_sla")
    figures = {"first_response_sla": iter([0.95, 0.80, 0.80, 0.95, 0.85]),
               "resolution_sla": iter([0.70, 0.70, 0.90, 0.60, 0.60])}
    monkeypatch.setattr(alerts, "measure", lambda session, rule, now: next(figures[rule.metric]))
    raised = [check_alerts(session_factory, settings)["sla"] for _ in range(5)]
    assert raised == [1, 1, 0, 1, 1]
    assert [t.split(" over")[0] + " " + t.split(" is ")[1].split(",")[0] for t in told("lee@acme.test")] == [
        "Resolution SLA attainment for the organization 70 %",
        "First-response SLA attainment for the organization 80 %",
        "Resolution SLA attainment for the organization 60 %",
        "First-response SLA attainment for the organization 85 %"]
    with session_factory() as s:
        rules = {r.metric: r for r in service.list_rules(s)}
        keys = sorted(s.scalars(select(Alert.key)))
    assert {m: (r.firing, r.last_value_percent) for m, r in rules.items()} == {
        "first_response_sla": (True, 85.0), "resolution_sla": (True, 60.0)}
    fr, res = rules["first_response_sla"].id, rules["resolution_sla"].id
    assert keys == sorted([f"sla:{res}:1", f"sla:{fr}:1", f"sla:{res}:2", f"sla:{fr}:2"])


def test_two_nodes_raise_one_alert(settings, session_factory, org, subscribe, told, mailed, two_nodes, monkeypatch):
    """An incident opens and both SLA figures fall below their thresholds; two nodes check at the same moment:
    three alerts in all, each told and mailed once."""
    subscribe(sam={"incident_alerts": True}, lee={"incident_alerts": True, "sla_alerts": True})
    with unit_of_work(session_factory) as s:
        s.add(Incident(topic="outage", opened_at=utcnow(), last_activity_at=utcnow()))
        service.set_rule(s, org["lee"], None, 90, 7)
        service.set_rule(s, org["lee"], "support", 90, 7, metric="resolution_sla")
    monkeypatch.setattr(alerts, "measure", lambda session, rule, now: 0.5)
    results = two_nodes(lambda factory, _: check_alerts(factory, settings))
    assert sorted(r["incident"] for r in results) == [0, 1] and sum(r["sla"] for r in results) == 2
    assert len(told("sam@acme.test")) == 1 and len(told("lee@acme.test")) == 3
    assert [to for to, _ in mailed()] == ["lee@acme.test"] * 3 + ["sam@acme.test"]
    with session_factory() as s:
        assert s.scalar(select(func.count(Alert.id))) == 3


def test_thresholds_are_the_coordinators(session_factory, org):
    with unit_of_work(session_factory) as s:
        for who in ("mia", "sam", "eve"):
            with pytest.raises(Forbidden):
                service.set_rule(s, org[who], None, 90, 7)
            with pytest.raises(Forbidden):
                service.set_rule(s, org[who], None, 90, 7, metric="resolution_sla")
        for bad in ((None, 0, 7), (None, 101, 7), (None, 90, 0), (None, 90, 400), ("nope", 90, 7),
                    (None, float("nan"), 7), (None, float("inf"), 7)):
            with pytest.raises(InvalidInput):
                service.set_rule(s, org["lee"], *bad)
        with pytest.raises(InvalidInput, match="first_response_sla, resolution_sla"):
            service.set_rule(s, org["lee"], None, 90, 7, metric="<b>reopen_rate</b>")
        assert service.set_rule(s, org["ada"], "support", 75, 14).threshold_percent == 75
        # Either figure or both, per scope: set again, the same rule changes.
        assert service.set_rule(s, org["lee"], "support", 60, 5, metric="resolution_sla").figure == \
            "Resolution SLA attainment"
        service.set_rule(s, org["lee"], "support", 70, 5, metric="resolution_sla")
        rules = service.list_rules(s)
    assert [(r.team, r.metric, r.threshold_percent, r.days) for r in rules] == [
        ("support", "first_response_sla", 75, 14), ("support", "resolution_sla", 70, 5)]
