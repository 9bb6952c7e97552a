"""Sixty days of history for the demo, so that every report has something to say on first start.

The customers' messages go through the real pipeline (intake, triage, routing, threading) with their
past timestamps; what people did (replies, notes, hand-offs, resolutions, a lead won) is written as the
pages would have written it: outbound messages, case fields and events, dated when it happened. The story:
a slow week five weeks ago, an incident three weeks ago (a surge of complaints about one product),
Support answering faster week after week, and customers who praise, complain, and change their mind.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onevoice.auth.models import User
from onevoice.cases.models import Case, CaseTeam, Incident
from onevoice.cases.queue import sync_queue
from onevoice.connectors.sandbox.traffic import SandboxTraffic
from onevoice.db import unit_of_work, utcnow
from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.pipeline.intake import accept_batch
from onevoice.teams.models import Team

DAYS = 60
SLOW_WEEK = range(35, 42)  # days ago
INCIDENT_DAY = 21
CHANNELS = ("sandbox-x", "sandbox-mastodon", "sandbox-mail", "sandbox-reviews")


def seed_history(session_factory: sessionmaker[Session], process, domain: str, now: datetime | None = None,
                 days: int = DAYS, seed: int = 11) -> int:
    """Fill an empty organization with `days` of history; returns the number of messages (0 if it has cases)."""
    now = now or utcnow()
    with session_factory() as s:
        if s.scalar(select(func.count(Case.id))):
            return 0
    rng, traffic = random.Random(seed), SandboxTraffic(seed)
    total = 0
    for ago in range(days, 0, -1):
        day = (now - timedelta(days=ago)).date()
        weekend = day.weekday() >= 5
        n = rng.randint(14, 22) if weekend else rng.randint(35, 55)
        if ago in SLOW_WEEK:
            n = n * 2 // 5
        items = []
        for _ in range(n):
            at = datetime.combine(day, time(rng.randint(7, 21), rng.randint(0, 59)), UTC)
            items.append(traffic.next_message(rng.choice(CHANNELS), at))
        if ago == INCIDENT_DAY:
            for i in range(45):
                at = datetime.combine(day, time(10, 0), UTC) + timedelta(minutes=2 * i)
                m = traffic.next_message("sandbox-x", at)
                m["text"] = rng.choice(("The Acme Boiler X2 app is down again, terrible.",
                                        "Acme Boiler X2 app broken since this morning, still waiting for a fix",
                                        "Boiler X2 app crashed, no heating control. Terrible service."))
                items.append(m)
        with unit_of_work(session_factory) as s:
            ids = accept_batch(s, items).new_ids
        process(ids)
        total += len(ids)
    with unit_of_work(session_factory) as s:
        _work(s, rng, now, domain, days)
    return total


def _work(session: Session, rng: random.Random, now: datetime, domain: str, days: int) -> None:
    """What people did with each case, dated as if they had done it."""
    teams = dict(session.execute(select(Team.id, Team.key)).all())
    first_in = dict(session.execute(select(Message.case_id, func.min(Message.created_at))
                                    .where(Message.direction == "inbound").group_by(Message.case_id)).all())
    collaborators = {}
    for case_id, team_id in session.execute(select(CaseTeam.case_id, CaseTeam.team_id).where(CaseTeam.role != "lead")):
        collaborators.setdefault(case_id, []).append(team_id)
    # Each team's responders (demo/people.py: `support@`, `support-2@`...): one answers a case and takes it if it
    # is still waiting after the reply.
    crew: dict[str, list[tuple[str, int, str]]] = {}
    for uid, email, name in session.execute(select(User.id, User.email, User.name)
                                            .where(User.email.like(f"%@{domain}")).order_by(User.email)):
        local = email.split("@")[0]
        crew.setdefault(local.split("-")[0], []).append((local, uid, name))
    events, outbound = [], []
    for case in session.scalars(select(Case).where(Case.status != "closed_spam")):
        opened = first_in.get(case.id)
        if opened is None:
            continue
        ago = (now - opened).days
        lead = teams.get(case.lead_team_id, "support")
        person = crew[lead][case.id % len(crew[lead])] if lead in crew else None
        actor = f"{person[0] if person else lead}@{domain}"
        # Support gets faster week by week (from about 7 hours to under one); others hold steady.
        hours = (0.5 + 6.5 * ago / days) if lead == "support" else rng.uniform(1, 5)
        reply_at = opened + timedelta(hours=rng.expovariate(1 / hours))
        if ago < 1 and rng.random() < 0.5 or reply_at >= now:
            continue  # the newest cases wait in the queue
        for team_id in collaborators.get(case.id, []):
            note_at = opened + timedelta(hours=rng.uniform(0.2, 6))
            if note_at < now:
                events.append(_event(case.id, "note", f"{teams[team_id]}@{domain}", note_at, {"text": "On it."}))
        outbound.append({"channel_id": case.channel_id, "external_id": f"demo-reply-{case.id}", "direction": "outbound",
                         "kind": "direct" if rng.random() < 0.2 else "comment", "text": "Thanks for telling us: "
                         "we are on it and will update you here.", "author": {"external_id": "organization",
                                                                                 "name": actor},
                         "created_at": reply_at, "received_at": reply_at, "status": "sent", "case_id": case.id,
                         "sent_by": actor})  # no contact id: a reply is ours, as outbox.draft_reply writes it
        events.append(_event(case.id, "reply.queued", actor, reply_at, {}))
        events.append(_event(case.id, "reply.sent", "outbox", reply_at, {}))
        case.first_response_at = reply_at
        resolved_at = reply_at + timedelta(hours=rng.expovariate(1 / 10))
        # Most cases end resolved; a few of the last week's wait on the customer or another team. (One in seven
        # left open at every age made a 60-day-old backlog of ~150 cases, most of them breaching their SLA.)
        if resolved_at < now and rng.random() < (0.85 if ago <= 7 else 0.99):
            events.append(_event(case.id, "case.status", actor, resolved_at, {"from": "open", "to": "resolved"}))
            case.status, case.resolved_at = "resolved", resolved_at
            if rng.random() < 0.07 and resolved_at + timedelta(hours=20) < now:  # reopened, then resolved again
                again = resolved_at + timedelta(hours=rng.uniform(2, 20))
                events.append(_event(case.id, "case.status", actor, again, {"from": "resolved", "to": "open"}))
                events.append(_event(case.id, "case.status", actor, again + timedelta(hours=3),
                                     {"from": "open", "to": "resolved"}))
                case.resolved_at = again + timedelta(hours=3)
        elif person:  # still waiting: the responder who answered has it, often on the customer's answer
            _, uid, name = person
            case.assignee_id = uid
            events.append(_event(case.id, "case.assigned", actor, reply_at, {"user_id": uid, "name": name}))
            if rng.random() < 0.4:
                case.status = "pending_customer"
                events.append(_event(case.id, "case.status", actor, reply_at + timedelta(minutes=1),
                                     {"from": "open", "to": "pending_customer"}))
        # The teams were on the case from when it opened (processing today would date them now).
        session.execute(CaseTeam.__table__.update().where(CaseTeam.case_id == case.id).values(added_at=opened))
        if case.intent == "sales_lead" and rng.random() < 0.5 and reply_at + timedelta(days=2) < now:
            won = rng.random() < 0.55
            events.append(_event(case.id, "case.outcome", f"sales@{domain}", reply_at + timedelta(days=2),
                                 {"outcome": "won", "amount": rng.choice([900, 2400, 12000]), "currency": "EUR"}
                                 if won else {"outcome": "lost"}))
    session.flush()
    if outbound:
        session.execute(Message.__table__.insert(), outbound)
    if events:
        session.execute(Event.__table__.insert(), events)
    # Team queues copy the case's status: keep them in step with the resolutions written above.
    sync_queue(session, list(session.scalars(select(Case))))
    _incident(session, now)


def _incident(session: Session, now: datetime) -> None:
    """The surge three weeks ago was an incident that lasted an afternoon: opened as PR would have, dated.
    (History is processed without the live surge detector, which measures against the present.)"""
    if session.scalar(select(func.count(Incident.id))):
        return
    start = datetime.combine((now - timedelta(days=INCIDENT_DAY)).date(), time(10, 0), UTC)
    inc = Incident(topic="Boiler X2 app outage", status="closed", summary="Surge of complaints: the app is down",
                   opened_at=start, closed_at=start + timedelta(hours=5), last_activity_at=start + timedelta(hours=2),
                   closed_by="lead@demo", close_reason="fixed: the app is back")
    session.add(inc)
    session.flush()
    ids = list(session.scalars(select(Message.case_id).where(
        Message.created_at >= start, Message.created_at < start + timedelta(hours=2),
        Message.text.contains("X2"), Message.case_id.is_not(None))))
    session.execute(Case.__table__.update().where(Case.id.in_(ids)).values(incident_id=inc.id))


def _event(case_id: int, kind: str, actor: str, at: datetime, data: dict) -> dict:
    return {"kind": kind, "case_id": case_id, "actor": actor, "created_at": at, "data": data}
