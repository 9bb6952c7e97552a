"""Incidents as people see and handle them: the list with status and duration, closing and reopening by hand.

Detection and the automatic close live in pipeline/incidents.py. Who may close or reopen: admins,
coordinators, and anyone in the PR team who can act (PR owns the crisis response). Everyone but partners
(whose grant is a few channels, not the organization's situation) may see the list.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onevoice.audit.actor import bind_actor
from onevoice.auth.principal import Principal
from onevoice.cases.models import Case, Incident
from onevoice.db import utcnow
from onevoice.errors import Conflict, Forbidden, InvalidInput, NotFound
from onevoice.events.models import Event
from onevoice.incidents.schemas import IncidentOut
from onevoice.incidents.surge import close, incident_live

HANDLERS = frozenset({"admin", "coordinator"})
STATUSES = ("open", "closed")


def may_handle(who: Principal) -> bool:
    return who.role in HANDLERS or (who.can_act and "pr" in who.team_keys)


def require_viewer(who: Principal) -> None:
    if who.role == "partner":
        raise Forbidden("partners see the channels granted to them, not the organization's incidents")


def require_handler(who: Principal) -> None:
    if not may_handle(who):
        raise Forbidden(f"only admins, coordinators and the PR team may close or reopen incidents "
                        f"(you are signed in as {who.role})")


def duration(incident: Incident, now: datetime) -> int:
    """Seconds from opening to closing (or to now while open)."""
    return max(0, int(((incident.closed_at or now) - incident.opened_at).total_seconds()))


def human(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def describe(incident: Incident, cases: int, now: datetime) -> IncidentOut:
    seconds = duration(incident, now)
    return IncidentOut(id=incident.id, topic=incident.topic, status=incident.status, summary=incident.summary,
                       opened_at=incident.opened_at.isoformat(), closed_at=_iso(incident.closed_at),
                       closed_by=incident.closed_by, close_reason=incident.close_reason,
                       reopen_count=incident.reopen_count, baseline_rate=incident.baseline_rate,
                       last_activity_at=_iso(incident.last_activity_at),
                       duration_seconds=seconds, duration=human(seconds), cases=cases)


def list_incidents(session: Session, who: Principal, status: str | None = None, limit: int = 100) -> list[IncidentOut]:
    """Open ones first, then the most recently opened."""
    require_viewer(who)
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    counts = (select(Case.incident_id, func.count(Case.id).label("n")).where(Case.incident_id.is_not(None))
              .group_by(Case.incident_id).subquery())
    q = select(Incident, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.incident_id == Incident.id)
    if status:
        q = q.where(Incident.status == status)
    rows = session.execute(q.order_by((Incident.status == "open").desc(), Incident.opened_at.desc())
                           .limit(limit)).all()
    now = utcnow()
    return [describe(i, n, now) for i, n in rows]


def _get(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident


def _bind(session: Session, who: Principal, ip: str | None) -> None:
    bind_actor(session, who, ip)


def close_by_hand(session: Session, who: Principal, incident_id: int, reason: str, ip: str | None = None) -> dict:
    """Close an open incident with a reason; returns the live update for the edge to publish. Audited
    (`incident.close`, by the governance hook, as every close is)."""
    require_handler(who)
    _bind(session, who, ip)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why the incident is over (it goes in the history of its cases)")
    incident = _get(session, incident_id)
    if incident.status != "open":
        raise Conflict(f"incident {incident_id} is already closed")
    return close(session, incident, who.label, reason[:2000], utcnow())


def reopen_by_hand(session: Session, who: Principal, incident_id: int, reason: str = "",
                   ip: str | None = None) -> dict:
    """Open a closed incident again (none other open on its topic). Audited (`incident.reopen`, with why)."""
    require_handler(who)
    _bind(session, who, ip)
    incident = _get(session, incident_id)
    if incident.status == "open":
        raise Conflict(f"incident {incident_id} is already open")
    other = session.scalar(select(Incident.id).where(Incident.topic == incident.topic, Incident.status == "open"))
    if other is not None:
        raise Conflict(f"incident {other} is already open for {incident.topic}: it is the one to follow")
    now = utcnow()
    incident.status, incident.closed_at, incident.closed_by, incident.close_reason = "open", None, None, None
    incident.last_activity_at, incident.reopen_count = now, incident.reopen_count + 1
    session.add(Event(kind="incident.reopened", actor=who.label,
                      data={"incident_id": incident.id, "topic": incident.topic, "why": (reason or "").strip()[:2000]
                            or "reopened by hand"}))
    session.flush()
    return incident_live(incident, "incident.reopened", who.label)
