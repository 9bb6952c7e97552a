"""The inbox: a queue page (rows + next cursor), one row for live updates, and the rail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.cases.models import Incident
from onevoice.channels.models import Channel
from onevoice.db import utcnow
from onevoice.errors import InvalidInput
from onevoice.inbox.counts import queue_counts, rail_teams
from onevoice.inbox.filters import Filters, check_queue
from onevoice.inbox.queries import queue_case_ids
from onevoice.inbox.rows import case_rows
from onevoice.inbox.schemas import QueueRow
from onevoice.teams.models import Team
from onevoice.triage.types import INTENTS, SENTIMENTS

TITLES = {"mine": "My cases", "open": "All open", "unassigned": "Unassigned", "breaching": "Breaching SLA",
          "approval": "Waiting for approval", "incidents": "Incidents"}


def default_queue(who: Principal) -> str:
    """Where a person's inbox opens until they pick a queue. Admins and coordinators work across every team and
    managers across theirs: all open cases. Anyone else works from their team's queue when they have one team;
    with several (or none), all their open cases rather than whichever team sorts first."""
    if who.sees_all or who.role == "manager" or len(who.team_keys) != 1:
        return "open"
    return f"team:{who.team_keys[0]}"


def start_queue(session: Session, who: Principal, remembered: str | None) -> str:
    """The queue the inbox opens on: the one this person last opened, while it is still theirs to see (a team
    they left, or a queue that no longer exists, falls back to the default instead of an error page)."""
    if remembered:
        try:
            check_queue(remembered)
        except InvalidInput:
            return default_queue(who)
        if not remembered.startswith("team:") or remembered[5:] in {k for k, _ in rail_teams(session, who)}:
            return remembered
    return default_queue(who)


def incident_topic(session: Session, incident_id: int) -> str | None:
    """What the inbox's incident filter names in its title (None: no such incident, the list is then empty)."""
    return session.scalar(select(Incident.topic).where(Incident.id == incident_id))


# The "open" queue is every case the viewer may see; its title names the status filter it is shown with, so that
# "Any status" or "Resolved" does not read as "All open".
# (The words are the status menu's.)
OPEN_QUEUE_TITLES = {"open": "All open", "all": "All cases", "pending_customer": "All pending customer",
                     "pending_internal": "All pending internal", "resolved": "All resolved",
                     "closed_spam": "All closed as spam"}


def queue_title(session: Session, queue: str, status: str = "open") -> str:
    if queue.startswith("team:"):
        name = session.scalar(select(Team.name).where(Team.key == queue[5:]))
        return name or queue[5:]
    if queue == "open":
        return OPEN_QUEUE_TITLES.get(status, TITLES["open"])
    return TITLES.get(queue, queue)


def queue_page(session: Session, who: Principal, queue: str, f: Filters, cursor: str | None = None,
               limit: int = 50) -> dict:
    ids, next_cursor = queue_case_ids(session, who, queue, f, cursor, limit, utcnow())
    return {"items": case_rows(session, ids), "next_cursor": next_cursor,
            "title": queue_title(session, queue, f.status)}


def queue_row(session: Session, who: Principal, queue: str, f: Filters, case_id: int) -> QueueRow | None:
    """The row of this case if it belongs in this queue view for this person, else None."""
    ids, _ = queue_case_ids(session, who, queue, f, None, 1, utcnow(), only=[case_id])
    rows = case_rows(session, ids)
    return rows[0] if rows else None


def rail(session: Session, who: Principal) -> dict:
    return {"teams": rail_teams(session, who), "counts": queue_counts(session, who, utcnow())}


def filter_choices(session: Session) -> dict:
    return {"channels": [tuple(r) for r in session.execute(select(Channel.key, Channel.name).order_by(Channel.name))],
            "intents": INTENTS, "sentiments": SENTIMENTS, "priorities": ("urgent", "high", "normal", "low")}
