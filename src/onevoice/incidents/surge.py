"""The surge detector: negative messages about one topic or product rising well above their normal rate.

When the last hour holds at least MIN_COUNT negative messages on a key (a product or a topic) and at
least FACTOR times the hourly rate of the previous day (+1), one incident opens for that key; later
cases on the same key join the open incident instead of opening another. A linked case is raised to
high priority and PR collaborates on it.

Cost: the processor calls `detect_surges` once per batch, in the transaction that processes the batch.
It adds the batch's negative messages to `surge_counts` (one upsert per key and bucket, atomic on SQLite
and PostgreSQL, so counts from several workers add up), then reads the counts of the keys it saw: about
forty small rows per key, whatever the size of the messages table. Counting in the processing
transaction is what makes each message count once: a batch that fails rolls its counts back, and a
processed message is never processed again. (Do not call it twice for the same batch.)

Windows come from buckets: five-minute buckets for the last hour, hour buckets for the 24 hours before
it; the bucket that straddles a window's edge counts pro rata (counts are assumed even within a bucket).

The normal rate is what was seen before the last hour, divided by the hours OneVoice has been counting
(at most 24): a marker row (key "*") keeps when counting began (the earliest message counted, but never more
than a window before it was counted: a backfilled post from yesterday is not a day of watching). For its first
hour of history the detector has no normal rate to compare with and opens nothing ("learning"): on a new
installation every topic would otherwise look like a surge.

Incidents end. `close_quiet` (a scheduler job) closes an incident open for at least the quiet period once
its last hour is back under the normal rate recorded when it opened: a rare topic must fall silent, a busy
one only has to come back to its usual volume.
PR or a coordinator may close or reopen one by hand (incidents/service.py). When the surge resumes, a
closed incident of the last day is reopened, counting only the messages since it was closed (so a
hand-closed incident does not bounce back on the messages that opened it); an older one stays closed
and a new incident opens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, literal, or_, select, text, update
from sqlalchemy import case as sql_case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onevoice.cases.models import Case, CaseTeam, Incident, SurgeCount
from onevoice.cases.queue import queue_fields, sync_queue
from onevoice.db import unit_of_work, utcnow
from onevoice.events.models import Event
from onevoice.teams.service import team_id
from onevoice.triage.types import TriageResult

WINDOW = timedelta(hours=1)
BASELINE = timedelta(hours=24)
MIN_COUNT = 5
FACTOR = 3.0
# Topics too broad to be one story (every second complaint mentions the app or customer service).
IGNORED_TOPICS = frozenset({"customer_service", "app"})
FINE = 300  # seconds: buckets of the last hour
COARSE = 3600  # seconds: buckets of the baseline
# A surge that resumes within a day of its incident closing is the same story: reopen it.
REOPEN_WITHIN = timedelta(hours=24)
QUIET = timedelta(hours=1)  # default quiet period (settings.incident_quiet_minutes)
LEARNING = timedelta(hours=1)  # history needed before the last hour's rate can be called a surge
SINCE_KEY = "*"  # the marker row: `count` holds when counting began (Unix seconds); never a product or topic

# (case, triage, when the message was posted); None for the time means now.
SurgeItem = tuple[Case, TriageResult, datetime | None]


def surge_keys(triage: TriageResult) -> list[str]:
    """The keys a negative message counts toward: its products, then its specific topics."""
    return list(dict.fromkeys([*triage.products, *[t for t in triage.topics if t not in IGNORED_TOPICS]]))


def _seconds(at: datetime) -> int:
    return int(at.timestamp())


def _floor(at: datetime, width: int) -> int:
    """The start of the bucket that holds this time, in Unix seconds."""
    seconds = _seconds(at)
    return seconds - seconds % width


def _count(session: Session, items: list[tuple[list[str], datetime]], now: datetime) -> None:
    counts: Counter[tuple[str, int, int]] = Counter()
    fine_from = _seconds(now - WINDOW) - FINE
    for keys, at in items:
        t = _seconds(at)
        coarse, fine = t - t % COARSE, t - t % FINE
        for key in keys:
            counts[(key, COARSE, coarse)] += 1
            if t >= fine_from:  # a late message, posted before the last hour, only counts toward the baseline
                counts[(key, FINE, fine)] += 1
    if not counts:
        return
    # A message posted long ago and counted now (a backfill, a late delivery) proves nothing about the hours
    # before it arrived: counting began at most a window ago, whatever the message's own time says.
    mark_counting_since(session, max(min(_seconds(at) for _, at in items), _seconds(now - WINDOW)))
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(SurgeCount.__table__)
    stmt = stmt.on_conflict_do_update(index_elements=["key", "width", "bucket"],
                                      set_={"count": SurgeCount.count + stmt.excluded["count"]})
    # Sorted, so that two workers upserting the same keys lock the rows in the same order (no deadlock).
    session.execute(stmt, [{"key": k, "width": w, "bucket": b, "count": n} for (k, w, b), n in sorted(counts.items())])
    c = SurgeCount
    session.execute(delete(c).where(c.key.in_({k for k, _, _ in counts}), or_(
        and_(c.width == FINE, c.bucket < _seconds(now - 2 * WINDOW)),
        c.bucket < _seconds(now - WINDOW - BASELINE - 2 * WINDOW))))


def mark_counting_since(session: Session, seconds: int) -> None:
    """Record when counting began (the earliest message time counted), so that the normal rate is divided by
    the hours actually watched. Only ever moves earlier, and is written only then: an upsert on every batch
    would make all workers queue behind this one row until their transactions commit."""
    if (current := _counting_since(session)) is not None and current <= seconds:
        return
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(SurgeCount.__table__).values(key=SINCE_KEY, width=0, bucket=0, count=seconds)
    stmt = stmt.on_conflict_do_update(index_elements=["key", "width", "bucket"], set_={"count": sql_case(
        (stmt.excluded["count"] < SurgeCount.count, stmt.excluded["count"]), else_=SurgeCount.count)})
    session.execute(stmt)


def _counting_since(session: Session) -> int | None:
    return session.scalar(select(SurgeCount.count).where(SurgeCount.key == SINCE_KEY, SurgeCount.width == 0,
                                                         SurgeCount.bucket == 0))


def _watched_hours(session: Session, now: datetime) -> float:
    """Hours of history before the last hour (0 when nothing was ever counted)."""
    since = _counting_since(session)
    return max(0.0, ((now - WINDOW).timestamp() - since) / 3600) if since is not None else 0.0


def _rates(session: Session, keys: list[str], now: datetime) -> dict[str, tuple[float, float | None]]:
    """Per key: negative messages in the last hour, and the hourly rate over the (up to) 24 hours before;
    None for the rate while there is less than LEARNING of history.

    Summed by the database, two rows per key. The buckets that straddle a window's start count pro
    rata; the current five-minute bucket counts in full (message times are clamped to now).
    """
    window_start = (now - WINDOW).timestamp()
    baseline_start = (now - WINDOW - BASELINE).timestamp()
    fine_edge = _floor(now - WINDOW, FINE)
    coarse_lo, coarse_hi = _floor(now - WINDOW - BASELINE, COARSE), _floor(now - WINDOW, COARSE)
    c = SurgeCount
    share = sql_case(
        (and_(c.width == FINE, c.bucket == fine_edge), literal((fine_edge + FINE - window_start) / FINE)),
        (and_(c.width == COARSE, c.bucket == coarse_lo), literal((coarse_lo + COARSE - baseline_start) / COARSE)),
        (and_(c.width == COARSE, c.bucket == coarse_hi), literal((window_start - coarse_hi) / COARSE)),
        else_=literal(1.0),
    )
    rows = session.execute(
        select(c.key, c.width, func.sum(c.count * share)).where(c.key.in_(keys), or_(
            and_(c.width == FINE, c.bucket >= fine_edge),
            and_(c.width == COARSE, c.bucket >= coarse_lo, c.bucket <= coarse_hi),
        )).group_by(c.key, c.width)
    ).all()
    recent = {k: float(n or 0) for k, w, n in rows if w == FINE}
    before = {k: float(n or 0) for k, w, n in rows if w == COARSE}
    watched = min(_watched_hours(session, now), BASELINE / timedelta(hours=1))
    if watched < LEARNING / timedelta(hours=1):
        return {k: (recent.get(k, 0.0), None) for k in keys}
    return {k: (recent.get(k, 0.0), before.get(k, 0.0) / watched) for k in keys}


def _open_incidents(session: Session, keys: list[str]) -> dict[str, Incident]:
    found = session.scalars(select(Incident).where(Incident.topic.in_(keys), Incident.status == "open")
                            .order_by(Incident.id)).all()
    return {i.topic: i for i in found}


def _since(session: Session, key: str, since: datetime, now: datetime) -> float:
    """Negative messages on a key from `since` (within the last hour) to now, from the fine buckets."""
    edge = _floor(since, FINE)
    c = SurgeCount
    share = sql_case((c.bucket == edge, literal((edge + FINE - since.timestamp()) / FINE)), else_=literal(1.0))
    n = session.scalar(select(func.sum(c.count * share)).where(c.key == key, c.width == FINE, c.bucket >= edge))
    return float(n or 0)


def _recently_closed(session: Session, keys: list[str], now: datetime) -> dict[str, Incident]:
    found = session.scalars(select(Incident).where(Incident.topic.in_(keys), Incident.status == "closed",
                                                   Incident.closed_at >= now - REOPEN_WITHIN)
                            .order_by(Incident.closed_at)).all()
    return {i.topic: i for i in found}  # the latest closed per key


def _open(session: Session, key: str, recent: float, hourly: float, now: datetime) -> Incident:
    """Open the incident for this key, or take the one another worker opened a moment ago."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    summary = (f"{recent:.0f} negative messages about {key} in the last hour; "
               f"normal is {hourly:.1f} an hour (the hours before)")
    # The partial unique index (one open incident per topic) settles a race between workers: the loser
    # inserts nothing and reads the winner's row.
    session.execute(dialect.insert(Incident).values(topic=key, status="open", summary=summary, opened_at=now,
                                                    baseline_rate=hourly, last_activity_at=now)
                    .on_conflict_do_nothing(index_elements=["topic"], index_where=text("status = 'open'")))
    return session.scalars(select(Incident).where(Incident.topic == key, Incident.status == "open")).one()


def _reopen(session: Session, incident: Incident, recent: float, now: datetime) -> Incident:
    """Reopen a recently closed incident; if another worker opened one for the key meanwhile, take that."""
    try:
        with session.begin_nested():
            session.execute(update(Incident).where(Incident.id == incident.id, Incident.status == "closed")
                            .values(status="open", closed_at=None, closed_by=None, close_reason=None,
                                    last_activity_at=now, reopen_count=Incident.reopen_count + 1))
    except IntegrityError:  # an open incident for this key appeared first (unique per open topic)
        pass
    session.expire(incident)
    current = session.scalars(select(Incident).where(Incident.topic == incident.topic,
                                                     Incident.status == "open")).one()
    if current.id == incident.id:
        session.add(Event(kind="incident.reopened", actor="system",
                          data={"incident_id": incident.id, "topic": incident.topic,
                                "why": f"the surge resumed: {recent:.0f} negative messages since it closed"}))
    return current


def detect_surges(session: Session, items: Sequence[SurgeItem], now: datetime) -> list[Incident]:
    """Count this batch's negative messages; open or join incidents for keys that surge.

    Returns the incidents that cases were linked to by this call (each once). Links each case to at
    most one incident (its first key, products before topics, that is in an incident), raises it to
    high, adds PR as a collaborating team (when a `pr` team exists); only flushes.
    """
    negative = [(case, surge_keys(t), min(at or now, now)) for case, t, at in items if t.sentiment == "negative"]
    negative = [x for x in negative if x[1]]
    if not negative:
        return []
    _count(session, [(keys, at) for _, keys, at in negative if at >= now - WINDOW - BASELINE], now)
    keys = sorted({k for _, ks, _ in negative for k in ks})
    incidents = _open_incidents(session, keys)
    rates: dict[str, tuple[float, float]] | None = None
    closed: dict[str, Incident] = {}
    for key in keys:  # negative messages on an open incident's key keep it from going quiet
        if key in incidents:
            incidents[key].last_activity_at = now
    linked: dict[int, Incident] = {}
    changed: dict[int, tuple[Case, Incident]] = {}
    for case, case_keys, _ in negative:
        if case.incident_id is not None or case.id in changed:
            continue
        for key in case_keys:
            incident = incidents.get(key)
            if incident is None:
                if rates is None:
                    rates = _rates(session, [k for k in keys if k not in incidents], now)
                    closed = _recently_closed(session, [k for k in keys if k not in incidents], now)
                recent, hourly = rates.get(key, (0.0, None))
                if hourly is None or recent < MIN_COUNT or recent < FACTOR * hourly + 1:
                    continue
                previous = closed.get(key)
                if previous is None:
                    incident = incidents[key] = _open(session, key, recent, hourly, now)
                else:
                    # Only what arrived after the close counts toward reopening it.
                    since = _since(session, key, previous.closed_at, now) \
                        if previous.closed_at > now - WINDOW else recent
                    if since < MIN_COUNT or since < FACTOR * previous.baseline_rate + 1:
                        continue
                    incident = incidents[key] = _reopen(session, previous, since, now)
            linked[incident.id] = incident
            changed[case.id] = (case, incident)
            break
    if changed:
        _link(session, list(changed.values()), now)
    return list(linked.values())


def _link(session: Session, pairs: list[tuple[Case, Incident]], now: datetime) -> None:
    """Link the cases, raise them to high, and give PR a collaborator's queue entry on each."""
    for case, incident in pairs:
        case.incident_id = incident.id
        if case.priority in ("low", "normal"):
            case.priority = "high"
    session.flush()
    cases = [case for case, _ in pairs]
    pr = team_id(session, "pr")
    if pr is not None:
        ids = [c.id for c in cases]
        present = set(session.scalars(select(CaseTeam.case_id).where(CaseTeam.team_id == pr,
                                                                     CaseTeam.case_id.in_(ids))))
        rows = [{"case_id": case.id, "team_id": pr, "role": "collaborator", "added_at": now,
                 "reason": f"surge on {incident.topic} (incident)", **queue_fields(case)}
                for case, incident in pairs if case.id not in present and case.lead_team_id != pr]
        if rows:
            dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
            session.execute(dialect.insert(CaseTeam).on_conflict_do_nothing(index_elements=["case_id", "team_id"]),
                            rows)
    sync_queue(session, cases)


def incident_live(incident: Incident, change: str, actor: str) -> dict:
    """The live update for an incident's change (published by the caller after its commit)."""
    return {"type": "incident", "incident_id": incident.id, "topic": incident.topic, "status": incident.status,
            "change": change, "actor": actor}


def close(session: Session, incident: Incident, actor: str, reason: str, now: datetime) -> dict:
    """Close an open incident: an `incident.closed` event in the history of every linked case; only flushes.
    Returns the live update. The cases keep their link (it says what they were part of)."""
    incident.status, incident.closed_at = "closed", now
    incident.closed_by, incident.close_reason = actor, reason
    session.flush()
    data = {"incident_id": incident.id, "topic": incident.topic, "reason": reason,
            "duration_seconds": int((now - incident.opened_at).total_seconds())}
    case_ids = list(session.scalars(select(Case.id).where(Case.incident_id == incident.id)))
    rows = [{"kind": "incident.closed", "case_id": cid, "actor": actor, "data": data, "created_at": now}
            for cid in case_ids] or [{"kind": "incident.closed", "case_id": None, "actor": actor, "data": data,
                                      "created_at": now}]
    session.execute(Event.__table__.insert(), rows)
    return incident_live(incident, "incident.closed", actor)


def close_quiet(session: Session, now: datetime, quiet: timedelta = QUIET) -> list[dict]:
    """Close every incident open for at least `quiet` whose last hour is back under the normal rate it had
    when it opened (a rare topic has gone silent; a busy one is back to its usual volume). Returns the live
    updates; only flushes. Safe on several nodes at once: each incident row is locked (PostgreSQL) and
    checked again before it is closed."""
    due = session.scalars(select(Incident).where(Incident.status == "open", Incident.opened_at <= now - quiet)
                          .order_by(Incident.id).with_for_update(skip_locked=True)).all()
    if not due:
        return []
    rates = _rates(session, [i.topic for i in due], now)
    out = []
    for incident in due:
        recent, _ = rates.get(incident.topic, (0.0, 0.0))
        # Still above its normal rate (within one message: the window's edge bucket counts pro rata).
        if recent >= incident.baseline_rate + 1:
            continue
        out.append(close(session, incident, "system",
                         f"back to normal: {recent:.0f} negative messages in the last hour, "
                         f"normal is {incident.baseline_rate:.1f}", now))
    return out


def close_quiet_job(session_factory, publish, quiet_minutes: float = 60.0) -> list[dict]:
    """The scheduler's job: close quiet incidents in one unit of work, then publish the live updates."""
    with unit_of_work(session_factory) as session:
        live = close_quiet(session, utcnow(), timedelta(minutes=quiet_minutes))
    if live:
        publish(live)
    return live
