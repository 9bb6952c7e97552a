"""The surge detector: negative messages about one topic or product rising well above their normal rate.

When the last hour holds at least MIN_COUNT negative messages on a key (a product or a topic) and at
least FACTOR times the hourly rate of the previous day, one incident opens for that key; later cases on
the same key join the open incident instead of opening another. Safe to call twice for one message: a
case already linked to an incident is left alone and nothing new is returned.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from onevoice.cases.models import Case, CaseTeam, Incident
from onevoice.messages.models import Message
from onevoice.teams.models import Team
from onevoice.triage.types import TriageResult

WINDOW = timedelta(hours=1)
BASELINE = timedelta(hours=24)
MIN_COUNT = 5
FACTOR = 3.0
# Topics too broad to be one story (every second complaint mentions the app or customer service).
IGNORED_TOPICS = frozenset({"customer_service", "app"})


def _keys(triage: TriageResult) -> list[str]:
    return [*triage.products, *[t for t in triage.topics if t not in IGNORED_TOPICS]]


def _negative_counts(session: Session, key: str, since: datetime, until: datetime) -> int:
    # The JSON text prefilter keeps this portable (SQLite and PostgreSQL) and cheap; the exact
    # test on the decoded triage happens in Python.
    rows = session.execute(
        select(Message.triage).where(
            Message.direction == "inbound", Message.created_at >= since, Message.created_at <= until,
            cast(Message.triage, String).like(f'%"{key}"%'),
        )
    ).scalars()
    count = 0
    for t in rows:
        if t and t.get("sentiment") == "negative" and key in (t.get("products") or []) + (t.get("topics") or []):
            count += 1
    return count


def detect_surge(session: Session, case: Case, triage: TriageResult, now: datetime) -> Incident | None:
    """Open (or join) an incident when this negative message is part of a surge on one of its keys.

    Returns the incident when this call linked the case to it, None otherwise. Links the case, adds PR as
    a collaborating team (when a `pr` team exists) and raises the case to high priority; only flushes.
    """
    if triage.sentiment != "negative" or case.incident_id is not None:
        return None
    for key in _keys(triage):
        incident = session.scalars(select(Incident).where(Incident.topic == key, Incident.status == "open")
                                   .order_by(Incident.id.desc()).limit(1)).first()
        if incident is None:
            recent = _negative_counts(session, key, now - WINDOW, now)
            if recent < MIN_COUNT:
                continue
            before = _negative_counts(session, key, now - WINDOW - BASELINE, now - WINDOW)
            hourly = before / (BASELINE / WINDOW)
            if recent < FACTOR * hourly + 1:
                continue
            incident = Incident(topic=key, opened_at=now, summary=(
                f"{recent} negative messages about {key} in the last hour; "
                f"normal is {hourly:.1f} an hour (previous 24 hours)"))
            session.add(incident)
            session.flush()
        _link(session, case, incident)
        return incident
    return None


def _link(session: Session, case: Case, incident: Incident) -> None:
    case.incident_id = incident.id
    if case.priority in ("low", "normal"):
        case.priority = "high"
    pr = session.scalars(select(Team).where(Team.key == "pr")).first()
    if pr is not None and pr.id != case.lead_team_id and session.get(CaseTeam, (case.id, pr.id)) is None:
        session.add(CaseTeam(case_id=case.id, team_id=pr.id, reason=f"surge on {incident.topic} (incident)"))
    session.flush()
