"""The surge detector: one incident per surge, linked cases, PR alerted, safe to call twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onevoice.cases.models import Case, CaseTeam, Incident
from onevoice.channels.models import Channel
from onevoice.messages.models import Message
from onevoice.pipeline.incidents import detect_surge
from onevoice.teams.models import Team
from onevoice.triage.types import TriageResult

NOW = datetime(2025, 6, 6, 12, 0, tzinfo=UTC)


def _triage(sentiment="negative", topics=("billing",), products=()) -> TriageResult:
    return TriageResult(sentiment=sentiment, sentiment_score=-0.7, intent="complaint", intent_confidence=0.9,
                        intent_runner_up=None, urgency="normal", language="en", topics=list(topics),
                        products=list(products))


def _messages(session, n: int, start: datetime, step: timedelta, **triage) -> None:
    channel = session.query(Channel).first()
    if channel is None:
        channel = Channel(key="surge", kind="sandbox", name="Surge")
        session.add(channel)
        session.flush()
    base = session.query(Message).count()
    for i in range(n):
        session.add(Message(channel_id=channel.id, external_id=f"s{base + i}", kind="mention", text="bad",
                            author={}, created_at=start + i * step, triage=_triage(**triage).to_dict()))
    session.flush()


def _case(session) -> Case:
    case = Case(subject="x", priority="normal")
    session.add(case)
    session.flush()
    return case


def test_a_surge_opens_one_incident_links_cases_and_alerts_pr(session):
    session.add(Team(key="pr", name="PR"))
    _messages(session, 6, NOW - timedelta(minutes=50), timedelta(minutes=8))
    case = _case(session)
    incident = detect_surge(session, case, _triage(), NOW)
    assert isinstance(incident, Incident) and incident.topic == "billing" and incident.status == "open"
    assert case.incident_id == incident.id and case.priority == "high"
    assert session.query(CaseTeam).filter_by(case_id=case.id).count() == 1  # pr collaborates
    assert detect_surge(session, case, _triage(), NOW) is None  # second call for the same message: no-op
    other = _case(session)
    assert detect_surge(session, other, _triage(), NOW + timedelta(minutes=1)).id == incident.id
    assert session.query(Incident).count() == 1


def test_no_incident_at_the_normal_rate_or_for_positive_messages(session):
    # 24 an hour all day long: 6 in the last hour is normal for this topic.
    _messages(session, 24 * 6, NOW - timedelta(hours=25), timedelta(minutes=10))
    assert detect_surge(session, _case(session), _triage(), NOW) is None
    assert detect_surge(session, _case(session), _triage(sentiment="positive"), NOW) is None
    _messages(session, 2, NOW - timedelta(minutes=5), timedelta(minutes=1), topics=("delivery",))
    assert detect_surge(session, _case(session), _triage(topics=("delivery",)), NOW) is None  # too few
    assert session.query(Incident).count() == 0
