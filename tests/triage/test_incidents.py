"""The surge detector: one incident per surge, linked cases, PR alerted, counts that add up across workers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from onevoice.cases.models import Case, CaseTeam, Incident, SurgeCount
from onevoice.incidents.surge import close_quiet, detect_surges, mark_counting_since
from onevoice.teams.models import Team
from onevoice.triage.types import TriageResult

NOW = datetime(2025, 6, 6, 12, 0, tzinfo=UTC)


def _triage(sentiment="negative", topics=("billing",), products=()) -> TriageResult:
    return TriageResult(sentiment=sentiment, sentiment_score=-0.7, intent="complaint", intent_confidence=0.9,
                        intent_runner_up=None, urgency="normal", language="en", topics=list(topics),
                        products=list(products))


def _case(session, lead: int | None = None) -> Case:
    case = Case(subject="x", priority="normal", lead_team_id=lead, last_message_at=NOW)
    session.add(case)
    session.flush()
    if lead is not None:
        session.add(CaseTeam(case_id=case.id, team_id=lead, role="lead", priority="normal", last_message_at=NOW))
        session.flush()
    return case


def _batch(session, times, **triage) -> list:
    return [(_case(session), _triage(**triage), at) for at in times]


DAY_AGO = int((NOW - timedelta(days=1)).timestamp())


@pytest.fixture(autouse=True)
def counted_for_a_day(request):
    """Most tests judge surges against a known normal rate: the detector has been counting for a day
    (tests of how history is counted opt out with the `own_history` marker)."""
    if request.node.get_closest_marker("own_history"):
        return
    if "session" in request.fixturenames:
        mark_counting_since(request.getfixturevalue("session"), DAY_AGO)
    elif "session_factory" in request.fixturenames:
        with request.getfixturevalue("session_factory").begin() as s:
            mark_counting_since(s, DAY_AGO)


@pytest.mark.both_databases
def test_a_surge_opens_one_incident_links_cases_and_alerts_pr(session):
    pr, support = Team(key="pr", name="PR"), Team(key="support", name="Support")
    session.add_all([pr, support])
    session.flush()
    # Four unhappy posts in one batch: not yet a surge.
    assert detect_surges(session, _batch(session, [NOW - timedelta(minutes=m) for m in (50, 40, 30, 20)]), NOW) == []
    assert session.scalar(select(func.count()).select_from(Incident)) == 0
    # The fifth, in the next batch, makes it one.
    case = _case(session, lead=support.id)
    [incident] = detect_surges(session, [(case, _triage(), NOW - timedelta(minutes=5))], NOW)
    assert incident.topic == "billing" and incident.status == "open" and "5 negative messages" in incident.summary
    assert case.incident_id == incident.id and case.priority == "high"
    rows = {r.team_id: r for r in session.scalars(select(CaseTeam).where(CaseTeam.case_id == case.id))}
    # PR collaborates, with a correct queue entry; the lead's queue entry follows the raised priority.
    assert rows[pr.id].role == "collaborator" and rows[pr.id].priority == "high"
    assert rows[pr.id].last_message_at == case.last_message_at and rows[pr.id].status == "open"
    assert rows[support.id].role == "lead" and rows[support.id].priority == "high"
    # Later cases on the key join the open incident; one case in two messages of a batch links once.
    other = _case(session)
    joined = detect_surges(session, [(other, _triage(), NOW), (other, _triage(), NOW)], NOW + timedelta(minutes=1))
    assert joined == [incident] and other.incident_id == incident.id
    assert detect_surges(session, [(other, _triage(), NOW)], NOW + timedelta(minutes=2)) == []  # already linked
    assert session.scalar(select(func.count()).select_from(Incident)) == 1


@pytest.mark.both_databases
def test_no_incident_at_the_normal_rate_for_positive_or_too_few(session):
    # Six an hour all day long: six in the last hour is this topic's normal.
    history = [NOW - timedelta(minutes=10 * i) for i in range(1, 24 * 6 + 7)]
    assert detect_surges(session, _batch(session, history), NOW) == []
    assert detect_surges(session, _batch(session, [NOW] * 8, sentiment="positive"), NOW) == []
    assert detect_surges(session, _batch(session, [NOW] * 3, topics=("delivery",)), NOW) == []  # too few
    # Broad topics are not one story.
    assert detect_surges(session, _batch(session, [NOW] * 9, topics=("app", "customer_service")), NOW) == []
    assert session.scalar(select(func.count()).select_from(Incident)) == 0
    assert session.scalar(select(func.coalesce(func.sum(SurgeCount.count), 0))
                          .where(SurgeCount.key == "delivery", SurgeCount.width == 3600)) == 3


@pytest.mark.both_databases
def test_the_window_slides_and_products_come_first(session):
    # Five posts from 70 to 62 minutes ago: out of the window by now.
    detect_surges(session, _batch(session, [NOW - timedelta(minutes=70 - 2 * i) for i in range(5)],
                                  products=("voltix-v3",)), NOW)
    assert session.scalar(select(func.count()).select_from(Incident)) == 0
    # A batch with products and topics: the product's incident is the one the case joins.
    batch = _batch(session, [NOW] * 5, products=("voltix-v3",), topics=("defect",))
    found = detect_surges(session, batch, NOW)
    assert [i.topic for i in found] == ["voltix-v3"]
    # The defect topic surged too, but every case in the batch had already joined the product's incident.
    assert all(case.incident_id == found[0].id for case, _, _ in batch)


@pytest.mark.postgres
def test_two_workers_count_together_and_open_one_incident(session_factory):
    """Two transactions on the same key at once: counts add up and only one incident opens."""
    a, b = session_factory(), session_factory()
    try:
        first = detect_surges(a, _batch(a, [NOW - timedelta(minutes=1)] * 3), NOW)
        assert first == []  # 3: below MIN_COUNT on its own
        result: dict = {}

        def other_worker():
            # Blocks on the count rows until the first transaction commits, then sees its counts.
            result["found"] = detect_surges(b, _batch(b, [NOW - timedelta(minutes=2)] * 3), NOW)
            b.commit()

        t = threading.Thread(target=other_worker)
        t.start()
        t.join(0.5)
        assert t.is_alive()  # waiting for the first worker's row locks
        a.commit()
        t.join(10)
        assert [i.topic for i in result["found"]] == ["billing"]  # 3 + 3 = 6 in the hour
        with session_factory() as s:
            assert s.scalar(select(func.count()).select_from(Incident)) == 1
            assert s.scalar(select(func.sum(SurgeCount.count)).where(SurgeCount.width == 300)) == 6
    finally:
        a.close()
        b.close()


@pytest.mark.both_databases
def test_one_open_incident_per_topic_is_enforced_by_the_database(session):
    from sqlalchemy.exc import IntegrityError

    session.add(Incident(topic="refund", status="open"))
    session.flush()
    session.add(Incident(topic="refund", status="closed"))  # closed ones may repeat
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Incident(topic="refund", status="open"))
        session.flush()


# --- incidents that end ----------------------------------------------------------------------------------

def _surge(session, at=NOW, n=5) -> Incident:
    found = detect_surges(session, _batch(session, [at - timedelta(minutes=m) for m in range(n)]), at)
    assert len(found) == 1
    return found[0]


@pytest.mark.both_databases
def test_an_incident_closes_once_its_topic_is_quiet_and_back_to_normal(session):
    from onevoice.events.models import Event
    from onevoice.incidents.surge import close_quiet

    incident = _surge(session)
    assert incident.baseline_rate == 0.0 and incident.last_activity_at == NOW
    # Another unhappy post 20 minutes later keeps it active.
    detect_surges(session, _batch(session, [NOW + timedelta(minutes=20)]), NOW + timedelta(minutes=20))
    assert incident.last_activity_at == NOW + timedelta(minutes=20)
    assert close_quiet(session, NOW + timedelta(minutes=70), quiet=timedelta(hours=1)) == []
    # Quiet long enough, but the last hour still runs above the normal rate (0 an hour): stays open.
    assert close_quiet(session, NOW + timedelta(minutes=40), quiet=timedelta(minutes=10)) == []
    assert incident.status == "open"
    [live] = close_quiet(session, NOW + timedelta(minutes=81), quiet=timedelta(hours=1))
    assert live == {"type": "incident", "incident_id": incident.id, "topic": "billing", "status": "closed",
                    "change": "incident.closed", "actor": "system"}
    assert incident.status == "closed" and incident.closed_at == NOW + timedelta(minutes=81)
    assert incident.closed_by == "system" and incident.close_reason.startswith("back to normal")
    events = session.scalars(select(Event).where(Event.kind == "incident.closed")).all()
    linked = session.scalars(select(Case.id).where(Case.incident_id == incident.id)).all()
    assert sorted(e.case_id for e in events) == sorted(linked) and len(linked) == 6
    assert {e.data["duration_seconds"] for e in events} == {81 * 60}
    assert close_quiet(session, NOW + timedelta(hours=3)) == []  # nothing left to close


@pytest.mark.both_databases
def test_a_resumed_surge_reopens_the_incident_within_a_day_and_opens_a_new_one_after(session):
    from onevoice.incidents.surge import close_quiet

    incident = _surge(session)
    close_quiet(session, NOW + timedelta(hours=2))
    assert incident.status == "closed"
    later = NOW + timedelta(hours=3)
    [again] = detect_surges(session, _batch(session, [later - timedelta(minutes=m) for m in range(5)]), later)
    assert again.id == incident.id and again.status == "open" and again.reopen_count == 1
    assert again.closed_at is None and again.last_activity_at == later
    close_quiet(session, later + timedelta(hours=2))
    much_later = later + timedelta(days=2)
    [new] = detect_surges(session, _batch(session, [much_later - timedelta(minutes=m) for m in range(5)]),
                          much_later)
    assert new.id != incident.id and new.status == "open" and new.reopen_count == 0
    assert session.get(Incident, incident.id).status == "closed"


@pytest.mark.both_databases
def test_a_hand_closed_incident_stays_closed_on_the_messages_that_opened_it(session):
    from onevoice.incidents.surge import close

    incident = _surge(session)
    close(session, incident, "lee@acme.test", "a known outage, fixed", NOW + timedelta(minutes=1))
    # The last hour holds 6 now, but only one arrived after the close: no bounce back.
    at = NOW + timedelta(minutes=2)
    assert detect_surges(session, _batch(session, [at]), at) == []
    assert incident.status == "closed"
    # Five more after the close: the surge resumed.
    at = NOW + timedelta(minutes=10)
    [again] = detect_surges(session, _batch(session, [at - timedelta(minutes=m) for m in range(5)]), at)
    assert again.id == incident.id and again.status == "open"


@pytest.mark.both_databases
@pytest.mark.own_history
def test_a_new_installation_learns_for_an_hour_before_calling_anything_a_surge(session):
    # First messages ever: 12 unhappy posts in 20 minutes on a topic is no surge yet (no normal rate known).
    assert detect_surges(session, _batch(session, [NOW - timedelta(minutes=m) for m in range(0, 24, 2)]), NOW) == []
    assert session.scalar(select(func.count()).select_from(Incident)) == 0
    # Two hours on, the topic's history is its normal; a burst well above it opens an incident.
    later = NOW + timedelta(hours=2)
    steady = [NOW + timedelta(minutes=m) for m in range(10, 60, 10)]
    assert detect_surges(session, _batch(session, steady), later - timedelta(hours=1)) == []
    burst = [later - timedelta(minutes=m % 20) for m in range(45)]
    [incident] = detect_surges(session, _batch(session, burst), later)
    # Normal = what came before the last hour (12 + 5 = 17) over the hours watched (~1.4), not over 24.
    assert 10 < incident.baseline_rate < 14 and "the hours before" in incident.summary


@pytest.mark.both_databases
@pytest.mark.own_history
def test_a_late_message_does_not_pretend_a_day_was_watched(session):
    # The demo's first start counted a customer's post from yesterday (seeded with its own date); the detector
    # took it as a day of watching, called the normal rate ~0 and opened an incident on every topic in minutes.
    assert detect_surges(session, _batch(session, [NOW - timedelta(days=1)]), NOW) == []
    burst = [NOW - timedelta(minutes=m) for m in range(0, 24, 2)]
    assert detect_surges(session, _batch(session, burst), NOW) == []  # still learning: no normal rate yet
    assert session.scalar(select(func.count()).select_from(Incident)) == 0


@pytest.mark.both_databases
@pytest.mark.own_history
def test_the_normal_rate_is_spread_over_the_hours_watched_not_a_full_day(session):
    mark_counting_since(session, int((NOW - timedelta(hours=3)).timestamp()))
    # 12 an hour for the two hours before the last one: normal is 12, so 20 in the last hour is no surge
    # (divided by 24 hours, normal would be 1 and 20 would look like a crisis).
    history = [NOW - timedelta(hours=1, minutes=5 * i) for i in range(1, 25)]
    detect_surges(session, _batch(session, history), NOW - timedelta(minutes=59))
    assert detect_surges(session, _batch(session, [NOW - timedelta(minutes=3 * i) for i in range(20)]), NOW) == []
    [incident] = detect_surges(session, _batch(session, [NOW] * 20), NOW)  # 40 >= 3 x 12 + 1
    assert incident.baseline_rate == pytest.approx(12, abs=1.5)


@pytest.mark.both_databases
@pytest.mark.own_history
def test_a_busy_topic_closes_when_back_to_its_usual_volume_without_falling_silent(session):
    mark_counting_since(session, int((NOW - timedelta(hours=3)).timestamp()))
    history = [NOW - timedelta(hours=1, minutes=5 * i) for i in range(1, 25)]
    detect_surges(session, _batch(session, history), NOW - timedelta(minutes=59))
    [incident] = detect_surges(session, _batch(session, [NOW - timedelta(minutes=m % 10) for m in range(40)]), NOW)
    # Then messages keep coming at the usual ~10 an hour: never an hour of silence.
    at = NOW
    for _ in range(15):
        at += timedelta(minutes=6)
        detect_surges(session, _batch(session, [at]), at)
    assert close_quiet(session, NOW + timedelta(minutes=50), quiet=timedelta(hours=1)) == []  # too soon
    assert incident.status == "open"
    [live] = close_quiet(session, at, quiet=timedelta(hours=1))
    assert live["change"] == "incident.closed" and incident.close_reason.startswith("back to normal")
