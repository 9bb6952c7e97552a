"""Process accepted messages: normalize -> triage -> route -> thread -> record, in one transaction.

Safe to run twice for the same ids (at-least-once delivery): only messages still `accepted` are taken,
under a row lock, and they leave the transaction `processed`. A message whose processing raises is
isolated from the rest of its batch and marked `failed` with the error; the others flow on.

On SQLite every write transaction holds the database's only write lock from its first statement (BEGIN
IMMEDIATE), and intake (the batched API, the replies we send, every page that saves) waits for it. Triage
and routing are most of a batch's work and only read, so while others want that lock (the worker notices
when it had to wait for it) they are worked out first, in a read transaction (the look-ahead): the write
transaction then takes each message's answer as it is only if the inputs it was made from (text, contact's
counts and marks, channel, the playbook's version) are still exactly the same, and works out again whatever
changed in between. Nothing is written before the write transaction, so a crash in between loses nothing
and the batch is simply done again.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from onevoice.channels.models import Channel
from onevoice.contacts.models import Contact
from onevoice.db import encode_json, executemany, keys_unchecked, make_sessionmaker, unit_of_work, utcnow
from onevoice.events.models import Event
from onevoice.messages.models import Message, RoutingDecision
from onevoice.pipeline import stages
from onevoice.pipeline.normalize import author_key, resolve_contacts
from onevoice.pipeline.thread import Threader, case_topic
from onevoice.routing.types import Decision, RouteInput, Router
from onevoice.teams.models import Team
from onevoice.triage.types import TriageInput, Triager, TriageResult

log = logging.getLogger(__name__)
# Auto look-ahead (SQLite): a write lock that took longer than this to get was held by someone else; the
# batches after it look ahead until this many in a row got it at once.
CONTENDED_SECONDS = 0.02
CONTENDED_BATCHES = 20
COLUMNS = ("id", "channel_id", "external_id", "kind", "text", "author", "in_reply_to", "created_at",
           "received_at", "attempts")


@dataclass
class Outcome:
    processed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    # Live updates to publish once the transaction has committed.
    live: list[dict] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    # Seconds spent in each stage (for the benchmark and the stage metric).
    stages: dict[str, float] = field(default_factory=dict)
    # Journaled webhook deliveries stored as messages before this batch (the embedded worker's first step).
    ingested: int = 0

    def merge(self, other: Outcome) -> None:
        self.processed += other.processed
        self.failed += other.failed
        self.live += other.live
        self.latency += other.latency
        for stage, seconds in other.stages.items():
            self.stages[stage] = self.stages.get(stage, 0.0) + seconds

    def lap(self, stage: str, started: float) -> float:
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - started
        return now


@dataclass
class LookAhead:
    """Answers worked out before the write transaction, by message id, each with the input it answers."""

    triage: dict[int, tuple[TriageInput, TriageResult]] = field(default_factory=dict)
    # (input, decision, the playbook's version it was made with)
    route: dict[int, tuple[RouteInput, Decision, str | None]] = field(default_factory=dict)
    # Each answer's triage document as the message row stores it, encoded here, out of the write lock; taken
    # only with that very answer (the same object).
    documents: dict[int, tuple[TriageResult, str]] = field(default_factory=dict)
    seconds: float = 0.0


class Processor:
    def __init__(self, session_factory: sessionmaker[Session], triager: Triager, router: Router,
                 worker: str = "embedded", surge: Callable | None = None, claim: Callable | None = None,
                 look_ahead: bool | None = None) -> None:
        self.session_factory = session_factory
        bind = session_factory.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        # True: always; False: never; None: on SQLite while the write lock is contended (module docstring).
        self.look_ahead = look_ahead if look_ahead is not None else (None if sqlite else False)
        self._read_factory = make_sessionmaker(bind, readonly=True) if self.look_ahead is not False else None
        self._contended = 0  # batches left to look ahead for, since one waited for the write lock
        self.triager = triager
        self.router = router
        self.worker = worker
        self.surge = surge
        # A hook registered by the composition root: messages it claims (an employee's own public post, say)
        # are stored as processed without a case, never triaged or routed as a customer's.
        self.claim = claim
        self._channels: dict[int, str] = {}
        self._kinds: dict[int, str] = {}
        self._teams: dict[str, int] = {}

    def enable_look_ahead(self) -> None:
        """Always look ahead (another worker process writes to the same SQLite database meanwhile)."""
        bind = self.session_factory.kw.get("bind")
        self.look_ahead = True
        self._read_factory = self._read_factory or make_sessionmaker(bind, readonly=True)

    def warm(self) -> None:
        """Load what triage would load with its first unsure message (a worker process warming up)."""
        warm = getattr(self.triager, "warm", None)
        if warm is not None:
            warm()

    def shared(self, others_write: bool) -> None:
        """Whether other worker processes write to this SQLite database now (worker/spread.py): then always
        look ahead; alone, only while the write lock is contended (the look-ahead reads every batch twice)."""
        if others_write:
            self.enable_look_ahead()
        else:
            self.look_ahead = None

    def process(self, ids: list[int]) -> Outcome:
        """Process these ids; never raises for a bad message, only for an unreachable database."""
        if not ids:
            return Outcome()
        ids = sorted(set(ids))
        ahead = self._look_ahead(ids) if self.look_ahead or (self.look_ahead is None and self._contended) else None
        try:
            with unit_of_work(self.session_factory) as session:
                self._begin(session)
                outcome = self._process(session, ids, ahead)
            if ahead is not None:
                outcome.stages["look-ahead (triage, route)"] = ahead.seconds
            return outcome
        except OperationalError:
            # The database is unreachable or busy: nothing is wrong with the messages. The caller
            # backs off and they are delivered again.
            raise
        except Exception as exc:
            if len(ids) == 1:
                self._mark_failed(ids[0], exc)
                return Outcome(failed=[ids[0]])
            log.warning("batch of %d failed (%s); isolating the bad messages", len(ids), exc)
            outcome = Outcome()
            middle = len(ids) // 2
            outcome.merge(self.process(ids[:middle]))
            outcome.merge(self.process(ids[middle:]))
            return outcome

    def _lookups(self, session: Session, channel_ids: set[int]) -> None:
        if channel_ids - set(self._channels):
            rows = session.execute(select(Channel.id, Channel.key, Channel.kind)).all()
            self._channels = {cid: key for cid, key, _ in rows}
            self._kinds = {cid: kind for cid, _, kind in rows}
            self._teams = dict(session.execute(select(Team.key, Team.id)).all())

    @staticmethod
    def _query(ids: list[int]):
        # Plain rows, not ORM objects: the verbatim payload is never loaded and nothing is change-tracked.
        return (select(*[Message.__table__.c[name] for name in COLUMNS])
                .where(Message.id.in_(ids), Message.status == "accepted").order_by(Message.id))

    def _begin(self, session: Session) -> None:
        """Begin the write transaction, on SQLite without foreign-key checks: every key this transaction writes
        it read or assigned itself while holding the only write lock (messages, contacts, conversations and cases
        read or inserted here; teams and channels, kept between batches, are never deleted), so the checks'
        parent lookups could only ever pass (db.keys_unchecked).

        Without a set look-ahead, see how long the write lock took: when someone else held it (the batched API's
        inserts, a page saving), the next batches look ahead; when nobody has for a while, they stop (the
        look-ahead reads the batch twice: about an eighth more work per message)."""
        started = time.perf_counter()
        keys_unchecked(session)
        if self.look_ahead is not None:
            return
        if time.perf_counter() - started > CONTENDED_SECONDS:
            self._contended = CONTENDED_BATCHES
        elif self._contended:
            self._contended -= 1

    def _look_ahead(self, ids: list[int]) -> LookAhead | None:
        """Triage and route these messages in a read transaction (no write lock held; module docstring).
        Best effort: whatever fails here is simply worked out in the write transaction, as it would be."""
        ahead, started = LookAhead(), time.perf_counter()
        try:
            with self._read_factory() as session:
                messages = list(session.execute(self._query(ids)))
                if not messages:
                    return None
                self._lookups(session, {m.channel_id for m in messages})
                contacts = resolve_contacts(session, messages, self._kinds, write=False)
            prior = {c.id: c.message_count for c in contacts.values()}
            triages = self._triage(messages, contacts, prior, None, ahead)
            self._route(messages, triages, contacts, prior, None, ahead)
            ahead.documents = {mid: (r, encode_json(r.to_dict())) for mid, (_, r) in ahead.triage.items()}
        except Exception:  # noqa: BLE001 - the write transaction does it all again and reports what fails
            log.debug("look-ahead of %d messages failed; processing without it", len(ids), exc_info=True)
            return None
        ahead.seconds = time.perf_counter() - started
        return ahead

    def _process(self, session: Session, ids: list[int], ahead: LookAhead | None = None) -> Outcome:
        outcome = Outcome()
        query = self._query(ids)
        if session.bind.dialect.name == "postgresql":
            # Another worker holding a message is processing it; skip rather than wait and redo.
            query = query.with_for_update(skip_locked=True)
        t = time.perf_counter()
        messages = list(session.execute(query))
        if not messages:
            return outcome
        now = utcnow()
        self._lookups(session, {m.channel_id for m in messages})
        t = outcome.lap("load", t)
        contacts = resolve_contacts(session, messages, self._kinds)
        if self.claim is not None:
            claimed = self.claim(session, messages, self._kinds)
            if claimed:
                self._store_claimed(session, [m for m in messages if m.id in claimed], contacts, now, outcome)
                messages = [m for m in messages if m.id not in claimed]
                if not messages:
                    return outcome
        prior = {c.id: c.message_count for c in contacts.values()}
        t = outcome.lap("normalize", t)
        triages = self._triage(messages, contacts, prior, ahead)
        t = outcome.lap("triage", t)
        routed, failures = self._route(messages, triages, contacts, prior, ahead)
        t = outcome.lap("route", t)
        # Routing first, so the threader loads only the open cases a message could join (same topic).
        threader = Threader(session, [m for m, *_ in routed], self._teams, {
            (contact.id, case_topic(triage, decision)) for _, contact, triage, decision in routed
            if not decision.close_as_spam})
        placed = [(m, contact, triage, decision, threader.place(m, contact.id, triage, decision, now))
                  for m, contact, triage, decision in routed]
        t = outcome.lap("thread", t)
        threader.write()
        t = outcome.lap("write", t)
        self._surge(session, threader, placed, now, outcome)
        t = outcome.lap("surge", t)
        self._record(session, placed, now, outcome, ahead.documents if ahead is not None else {})
        self._fail_rows(session, failures, contacts, outcome)
        outcome.lap("record", t)
        return outcome

    def _route(self, messages: list, triages: list, contacts: dict, prior: dict, ahead: LookAhead | None = None,
               keep: LookAhead | None = None) -> tuple[list, list]:
        """Route each triaged message; a look-ahead's decision is taken when its input is the same (`ahead`),
        and each decision made is kept with its input (`keep`, in the look-ahead)."""
        routed = []
        failures: list[tuple[object, BaseException]] = []
        for m, triage in zip(messages, triages, strict=True):
            if isinstance(triage, Exception):
                failures.append((m, triage))
                continue
            contact = contacts[author_key(m)]
            try:
                given = stages.route_input(m, triage, self._channels[m.channel_id], contact, prior.get(contact.id, 0))
                hit = ahead.route.get(m.id) if ahead is not None else None
                if hit is not None and hit[0] == given and hit[2] == getattr(self.router, "version", None):
                    decision = hit[1]
                else:
                    # A copy is kept: the router fills in what it knows (the channel's kind) on the one it gets.
                    kept = replace(given) if keep is not None else None
                    decision = self.router.route(given)
                    if keep is not None:
                        keep.route[m.id] = (kept, decision, getattr(self.router, "version", None))
            except Exception as exc:  # a broken rule must not stop the batch
                failures.append((m, exc))
                continue
            prior[contact.id] = prior.get(contact.id, 0) + 1
            contact.placed += 1
            routed.append((m, contact, triage, decision))
        return routed, failures

    def _surge(self, session: Session, threader: Threader, placed: list, now, outcome: Outcome) -> None:
        if self.surge is None or not placed:
            return
        before = {p.case: (p.case.priority, p.case.incident_id) for *_, p in placed}
        # Once per batch (each message counts once): may link cases to incidents and raise them.
        for incident in self.surge(session, [(p.case, triage, m.created_at) for m, _, triage, _, p in placed], now):
            outcome.live.append({"type": "incident", "incident_id": incident.id, "topic": incident.topic})
        # Cases are plain rows: store what the hook changed on them (and their queue entries).
        threader.update_cases([c for c, seen in before.items() if (c.priority, c.incident_id) != seen])

    def _triage(self, messages, contacts, prior, ahead: LookAhead | None = None,
                keep: LookAhead | None = None) -> list[TriageResult | Exception]:
        """Triage in one batch; a look-ahead's answer is taken where its input is the same (`ahead`), and
        each answer is kept with its input (`keep`, in the look-ahead)."""
        inputs = stages.triage_inputs(messages, contacts, self._channels, prior)
        results: list[TriageResult | Exception | None] = [None] * len(inputs)
        todo = []
        for i, (m, given) in enumerate(zip(messages, inputs, strict=True)):
            hit = ahead.triage.get(m.id) if ahead is not None else None
            if hit is not None and hit[0] == given:
                results[i] = hit[1]
            else:
                todo.append(i)
        if todo:
            for i, result in zip(todo, self._triage_inputs([inputs[i] for i in todo]), strict=True):
                results[i] = result
        if keep is not None:
            keep.triage.update((m.id, (given, r)) for m, given, r in zip(messages, inputs, results, strict=True)
                               if not isinstance(r, Exception))
        return results

    def _triage_inputs(self, inputs: list[TriageInput]) -> list[TriageResult | Exception]:
        try:
            return list(self.triager.triage_batch(inputs))
        except Exception:
            results: list[TriageResult | Exception] = []
            for item in inputs:
                try:
                    results.append(self.triager.triage_batch([item])[0])
                except Exception as exc:
                    results.append(exc)
            return results

    def _record(self, session: Session, placed: list, now, outcome: Outcome, documents: dict) -> None:
        decisions, events, updates = [], [], []
        for m, contact, triage, decision, p in placed:
            case = p.case
            document = documents.get(m.id)
            document = document[1] if document is not None and document[0] is triage else triage.to_dict()
            updates.append({"mid": m.id, "triage": document, "language": (triage.language or "und")[:8],
                            "contact_id": contact.id, "conversation_id": p.conversation.id, "case_id": case.id,
                            "at_": now})
            decisions.append({
                "message_id": m.id, "case_id": case.id, "lead_team": decision.lead_team,
                "collaborators": list(decision.collaborators), "priority": decision.priority,
                "sla_policy": decision.sla_policy, "tags": list(decision.tags),
                "requires_approval": decision.requires_approval, "close_as_spam": decision.close_as_spam,
                "rules": list(decision.rules), "reason": decision.reason,
                "playbook_version": decision.playbook_version, "created_at": now,
            })
            events.append({"kind": "message.processed", "message_id": m.id, "case_id": case.id,
                           "actor": self.worker, "created_at": now, "data": {
                               "intent": triage.intent, "sentiment": triage.sentiment, "urgency": triage.urgency,
                               "lead_team": decision.lead_team, "collaborators": decision.collaborators,
                               "rules": [r["rule"] for r in decision.rules], "joined_by": p.joined_by,
                               # The triage fields the reports' upkeep reads, here in the small document it
                               # reads anyway: from the message's ~1 KB triage they were its largest parse.
                               "triage": [triage.sentiment, triage.products, triage.intent, triage.complaint]}})
            if p.new_case:
                events.append({"kind": "case.closed_spam" if decision.close_as_spam else "case.opened",
                               "message_id": m.id, "case_id": case.id, "actor": self.worker,
                               "created_at": now, "data": {"reason": decision.reason,
                                                           "priority": case.priority}})
            else:
                events.append({"kind": "case.message_added", "message_id": m.id, "case_id": case.id,
                               "actor": self.worker, "created_at": now, "data": {"joined_by": p.joined_by}})
            if p.teams_added:
                events.append({"kind": "case.teams_added", "message_id": m.id, "case_id": case.id,
                               "actor": self.worker, "created_at": now, "data": {"teams": p.teams_added}})
            if p.priority_raised:
                events.append({"kind": "case.priority_raised", "message_id": m.id, "case_id": case.id,
                               "actor": self.worker, "created_at": now, "data": {"priority": case.priority}})
            outcome.processed.append(m.id)
            outcome.latency.append(max(0.0, time.time() - m.received_at.timestamp()))
            outcome.live.append({"type": "case.created" if p.new_case else "case.updated", "case_id": case.id,
                                 "message_id": m.id, "lead_team": decision.lead_team,
                                 "teams": [decision.lead_team, *p.teams_added], "priority": case.priority,
                                 "status": case.status})
        if decisions:
            # Straight to the driver on SQLite (db.executemany): the batch's time is a parameter of each row,
            # so that each statement is the same at every call.
            table = Message.__table__
            executemany(session, "processor.processed", update(table).where(table.c.id == bindparam("mid")).values(
                status="processed", processed_at=bindparam("at_"), error=None, triage=bindparam("triage"),
                language=bindparam("language"), contact_id=bindparam("contact_id"),
                conversation_id=bindparam("conversation_id"), case_id=bindparam("case_id")), updates)
            executemany(session, "processor.decisions", RoutingDecision.__table__.insert(), decisions)
            executemany(session, "processor.events", Event.__table__.insert(), events)
            # Added to, not overwritten: another worker may be counting the same contact's messages.
            contacts = Contact.__table__
            executemany(session, "processor.contacts", update(contacts).where(contacts.c.id == bindparam("cid"))
                        .values(message_count=contacts.c.message_count + bindparam("n"),
                                last_seen_at=bindparam("at_")),
                        [{"cid": c.id, "n": c.placed, "at_": now} for c in {id(c): c for _, c, *_ in placed}.values()])

    def _store_claimed(self, session: Session, messages: list, contacts: dict, now, outcome: Outcome) -> None:
        table = Message.__table__
        session.execute(update(table).where(table.c.id == bindparam("mid")).values(
            status="processed", processed_at=now, error=None, contact_id=bindparam("cid")),
            [{"mid": m.id, "cid": contacts[author_key(m)].id} for m in messages])
        outcome.processed.extend(m.id for m in messages)

    def _fail_rows(self, session: Session, failures: list, contacts: dict, outcome: Outcome) -> None:
        """Messages whose triage or routing raised: kept, marked failed with the error, retryable. Each keeps
        its author's contact: the batch stored what the message brought to it (followers, name), and what
        follows the contact (the reports' standing by reach, an erasure) finds the message by it."""
        for m, exc in failures:
            log.error("message %s failed: %s", m.id, _describe(exc))
            session.execute(update(Message).where(Message.id == m.id).values(
                status="failed", attempts=Message.attempts + 1, error=_describe(exc),
                contact_id=contacts[author_key(m)].id))
            session.add(Event(kind="message.failed", message_id=m.id, actor=self.worker,
                              data={"error": _describe(exc)}))
            outcome.failed.append(m.id)

    def _mark_failed(self, message_id: int, exc: BaseException) -> None:
        log.error("message %s failed: %s", message_id, _describe(exc))
        with unit_of_work(self.session_factory) as session:
            session.execute(
                update(Message).where(Message.id == message_id, Message.status == "accepted")
                .values(status="failed", attempts=Message.attempts + 1, error=_describe(exc))
            )
            session.add(Event(kind="message.failed", message_id=message_id, actor=self.worker,
                              data={"error": _describe(exc)}))


def _describe(exc: BaseException) -> str:
    tail = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return tail[:2000]
