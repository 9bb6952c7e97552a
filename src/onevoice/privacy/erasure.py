"""Erase one person: what they wrote, who they are on each platform, what we wrote to and about them.

What stays is what the reports need and nothing that identifies the person: the contact row (counts, first
and last seen, `erased_at`), each message's row (channel, kind, times, status, sentiment and intent labels),
each case's row (status, priority, intent, sentiment, times, SLA figures) and the events' kinds and times.
Everything else is emptied; then the person's strings (name, handle, platform ids) are swept from every
table (privacy/sweep.py), and on SQLite the search index is rebuilt so that no old token survives.

The audit log gets one record that names the request (its number and the organization's reference), never
the person: the log is append-only and hash-chained, so it must not hold what an erasure has to remove.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from onevoice.approvals.models import Approval
from onevoice.audit import log as audit
from onevoice.auth.permissions import require
from onevoice.auth.principal import Principal
from onevoice.cases.models import Case, CaseTeam, Conversation
from onevoice.channels.models import Channel
from onevoice.contacts.models import Contact, ContactIdentity
from onevoice.db import unit_of_work, utcnow
from onevoice.errors import Conflict, InvalidInput, NotFound
from onevoice.events.models import Event
from onevoice.inbox.models import Notification
from onevoice.messages import erased as erased_messages
from onevoice.messages.models import Message, RoutingDecision
from onevoice.outbox.models import OutboxJob
from onevoice.pipeline.ingest import ingest_received
from onevoice.privacy import sweep
from onevoice.privacy.models import PrivacyRequest
from onevoice.triage.models import TriageCorrection

PRIVACY_OFFICERS = frozenset({"admin"})
# The triage labels reports count (sentiment trends, intents, complaints); the rest quotes the text.
TRIAGE_KEPT = ("sentiment", "sentiment_score", "intent", "intent_confidence", "urgency", "language", "complaint",
               "complaint_probability", "model_version", "products", "topics")
# Event fields that are labels, not words anyone wrote.
EVENT_KEPT = ("from", "to", "team", "teams", "status", "priority", "field", "kind", "role", "intent", "sentiment",
              "message_id", "case_id", "incident_id", "user_id", "count")
MAX_REFERENCE = 100
PENDING = ("accepted", "failed")  # a message's statuses before the pipeline has processed it


def require_officer(who: Principal) -> None:
    require(who, PRIVACY_OFFICERS, "erase or export a person's data")


@dataclass
class Person:
    """A contact and everything that points at them."""

    contact: Contact
    needles: list[str]
    message_ids: list[int]          # what they wrote
    case_ids: list[int]             # their cases
    case_message_ids: list[int]     # everything in their cases (our replies too)
    external_ids: list[str] = field(default_factory=list)
    pending_ids: list[int] = field(default_factory=list)  # of message_ids, those not processed yet (below)


def gather(session: Session, contact_id: int) -> Person:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact with id {contact_id}")
    identities = list(session.scalars(select(ContactIdentity).where(ContactIdentity.contact_id == contact_id)))
    # What they wrote: a reply of ours on their case may carry their contact id too (the demo's did), and its
    # author is the organization named by the sender's address, which must not become a needle.
    rows = session.execute(select(Message.id, Message.external_id, Message.author, Message.status)
                           .where(Message.contact_id == contact_id, Message.direction == "inbound")).all()
    known = {r[0] for r in rows}
    rows += [r for r in _unlinked(session, identities) if r[0] not in known]
    case_ids = list(session.scalars(select(Case.id).where(Case.contact_id == contact_id)))
    case_message_ids = list(session.scalars(select(Message.id).where(Message.case_id.in_(case_ids))))
    strings: list[str | None] = [contact.name, contact.handle]
    for i in identities:
        strings += [i.external_id, i.handle, i.name]
    for _, _, author, _ in rows:
        if isinstance(author, dict):
            strings += [str(author.get(k) or "") for k in ("external_id", "handle", "name", "url")]
    return Person(contact, sweep.distinctive(strings), [r[0] for r in rows], case_ids, case_message_ids,
                  [r[1] for r in rows], [r[0] for r in rows if r[3] in PENDING])


def _unlinked(session: Session, identities: list[ContactIdentity]) -> list:
    """What they wrote that the pipeline has not made theirs yet: a message waiting for the worker carries no
    contact (the worker links it), nor does one whose batch failed as a whole. Found as the worker would link
    it: by the platform's author id, on the identity's channel or another of ours of the same kind
    (pipeline.normalize)."""
    kinds = dict(session.execute(select(Channel.id, Channel.kind)).all())
    theirs = {(kinds.get(i.channel_id), i.external_id) for i in identities}
    if not theirs:
        return []
    author_id = Message.author["external_id"].as_string()
    rows = session.execute(select(Message.id, Message.external_id, Message.author, Message.status,
                                  Message.channel_id).where(
        Message.status.in_(PENDING), Message.direction == "inbound", Message.contact_id.is_(None),
        author_id.in_(sorted({ext for _, ext in theirs})))).all()
    return [(mid, ext, author, status) for mid, ext, author, status, channel_id in rows
            if (kinds.get(channel_id), author["external_id"]) in theirs]


def _labels_only(data: dict | None) -> dict:
    return {k: v for k, v in (data or {}).items() if k in EVENT_KEPT and not isinstance(v, dict)}


def preview(session: Session, who: Principal, contact_id: int) -> dict:
    """What an erasure would touch, as counts (shown before the officer confirms)."""
    require_officer(who)
    person = gather(session, contact_id)
    return {"contact_id": contact_id, "erased": person.contact.erased_at is not None,
            "messages": len(person.message_ids), "pending": len(person.pending_ids), "cases": len(person.case_ids),
            "case_messages": len(person.case_message_ids),
            "elsewhere": sweep.find(session, person.needles),
            "audit_mentions": sweep.count_in_audit_log(session, person.needles)}


def check_reference(reference: str, needles: list[str]) -> str:
    reference = (reference or "").strip()
    if len(reference) > MAX_REFERENCE:
        raise InvalidInput(f"the reference is {len(reference)} characters long; at most {MAX_REFERENCE}")
    low = reference.lower()
    if any(n.lower() in low for n in needles):
        raise InvalidInput("the reference contains the person's name, handle or id: use the request's number "
                           "(a ticket, a case reference) instead, since the record of an erasure is kept")
    return reference


def erase_contact(write_factory, read_factory, who: Principal, contact_id: int, reference: str = "",
                  ip: str | None = None, journal=None, ingest=None) -> dict:
    """Erase in two steps: find where the person appears in a read-only session (every table is scanned, which
    takes a while in a large database), then erase in one short write transaction that visits those rows by
    key. On SQLite the write lock, which intake needs, is held only for the second step.

    With an intake journal (`journal`, and `ingest`: Runtime.ingest), what it holds is stored as messages
    first, so that what they wrote a moment ago is found and erased with the rest (`store_received`)."""
    require_officer(who)
    waiting = store_received(journal, ingest)
    with read_factory() as session:
        person = gather(session, contact_id)
        check_reference(reference, person.needles)
        refuse_if_waiting(waiting, person.needles)
        found = sweep.candidates(session, person.needles)
        replies = replies_to(session, person.external_ids)
    with unit_of_work(write_factory) as session:
        return erase(session, who, contact_id, reference, ip, found=found, replies=replies)


def store_received(journal, ingest) -> list:
    """Webhook deliveries received until now, stored as messages (pipeline.ingest.ingest_received); returns
    those still waiting in the journal (their platform could not be read yet). No journal: nothing waits."""
    if journal is None or ingest is None:
        return []
    return ingest_received(journal, ingest)


def refuse_if_waiting(waiting: list, needles: list[str]) -> None:
    """A delivery still waiting in the journal that names the person would be stored, whole, after the erasure
    (or be missing from their export): refuse, and say when to try again. One that does not name them is
    another customer's and no reason to wait."""
    named = [d.seq for d in waiting if sweep.mentions(d.body, needles)]
    if named:
        raise Conflict(f"{len(named)} webhook delivery(ies) received for this person are not stored yet: their "
                       f"platform could not be read, and is tried again within minutes (journal seq "
                       f"{', '.join(map(str, named[:5]))}). Try again once they are stored; nothing was changed.")


def replies_to(session: Session, external_ids: list[str]) -> dict[str, list[int]]:
    """Rows that name one of their messages' platform ids (replies, conversation roots), found read-only."""
    if not external_ids:
        return {"messages": [], "conversations": []}
    return {"messages": list(session.scalars(select(Message.id).where(Message.in_reply_to.in_(external_ids)))),
            "conversations": list(session.scalars(select(Conversation.id).where(
                Conversation.root_external_id.in_(external_ids))))}


def erase(session: Session, who: Principal, contact_id: int, reference: str = "", ip: str | None = None,
          found: dict | None = None, replies: dict | None = None) -> dict:
    """Erase the contact's personal data (in the caller's transaction). Returns the request's counts.
    `found` and `replies` (from a read-only look first, `erase_contact`) keep the transaction short."""
    require_officer(who)
    person = gather(session, contact_id)
    if person.pending_ids and session.get_bind().dialect.name != "sqlite":
        # A worker may hold one of them now (PostgreSQL: it processes rows it has locked, and skips locked
        # ones). Hold them all, waiting for that worker, then look again: what it stored (a case it opened)
        # is theirs and erased too, and no worker takes the rest before they are marked erased. (On SQLite
        # this write transaction excludes the worker's.)
        session.execute(select(Message.id).where(Message.id.in_(person.pending_ids)).with_for_update())
        person = gather(session, contact_id)
    reference = check_reference(reference, person.needles)
    request = PrivacyRequest(kind="erase", contact_id=contact_id, reference=reference, requested_by=who.label)
    session.add(request)
    session.flush()
    counts = _erase_owned(session, person, request.id, replies or replies_to(session, person.external_ids))
    # Their followers are now 0 with no case event: this one lets the reports' upkeep put their advocacy standing
    # in step (reports/upkeep.py), as a rebuild would. Ids only, like the rest of what is kept.
    session.add(Event(kind="contact.erased", actor=who.label, data={"contact": contact_id}))
    swept = sweep.sweep(session, person.needles, found)
    counts["elsewhere"] = sum(swept.values())
    counts["elsewhere_by_column"] = swept
    counts["audit_mentions"] = sweep.count_in_audit_log(session, person.needles)
    request.counts = counts
    audit.record(session, who, "privacy.erase", f"privacy_request:{request.id}",
                 {"reference": reference, "messages": counts["messages"], "cases": counts["cases"],
                  "elsewhere": counts["elsewhere"]}, ip)
    _purge_search_index(session)
    session.flush()
    return {"request_id": request.id, "reference": reference, **counts}


def _erase_owned(session: Session, person: Person, request_id: int, replies: dict) -> dict:
    c = person.contact
    mine, cases, in_cases = person.message_ids, person.case_ids, person.case_message_ids
    # Platform ids of what they wrote become meaningless tokens, the same token wherever the id was used
    # (a reply's in_reply_to, a conversation's root), so threads stay threads. Rows are visited by key.
    tokens = {old: f"erased-{request_id}-{n}" for n, old in enumerate(person.external_ids, 1)}
    # Known from now on by a digest only, so that the platform delivering one again does not store it again.
    erased_messages.record(session, [tuple(r) for r in session.execute(
        select(Message.channel_id, Message.external_id).where(Message.id.in_(mine))).all()])
    if person.pending_ids:
        # Not processed yet: theirs from now on, and out of the worker's and the retry's reach ("erased"):
        # processed after this, what is left of them would make a new contact of the person.
        session.execute(update(Message).where(Message.id.in_(person.pending_ids), Message.status.in_(PENDING))
                        .values(contact_id=c.id, status="erased"))
    if tokens:
        session.execute(update(Message).where(Message.contact_id == c.id, Message.external_id.in_(list(tokens)))
                        .values(external_id=case(tokens, value=Message.external_id)))
        session.execute(update(Message).where(Message.id.in_(replies["messages"]),
                                              Message.in_reply_to.in_(list(tokens)))
                        .values(in_reply_to=case(tokens, value=Message.in_reply_to)))
        session.execute(update(Conversation).where(Conversation.id.in_(replies["conversations"]),
                                                   Conversation.root_external_id.in_(list(tokens)))
                        .values(root_external_id=case(tokens, value=Conversation.root_external_id)))
    for mid, triage in session.execute(select(Message.id, Message.triage).where(Message.id.in_(mine))).all():
        kept = {k: triage[k] for k in TRIAGE_KEPT if isinstance(triage, dict) and k in triage} if triage else None
        session.execute(update(Message).where(Message.id == mid).values(
            text="", author={}, raw=None, url=None, attachments=None, error=None, triage=kept, redacted_at=utcnow()))
    everything = sorted(set(mine) | set(in_cases))
    if everything:
        # Our replies to them quote and name them: emptied too (who sent them, and when, stays).
        session.execute(update(Message).where(Message.id.in_(everything), Message.direction == "outbound")
                        .values(text="", raw=None, url=None, attachments=None, redacted_at=utcnow()))
        session.execute(update(OutboxJob).where(OutboxJob.message_id.in_(everything),
                                                OutboxJob.status.in_(("queued", "sending")))
                        .values(status="cancelled", last_error="cancelled: the contact's data was erased"))
        session.execute(update(OutboxJob).where(OutboxJob.message_id.in_(everything)).values(payload=None))
        session.execute(update(Approval).where(Approval.message_id.in_(everything), Approval.status == "pending")
                        .values(status="cancelled", decided_at=utcnow(),
                                decision_note="cancelled: the contact's data was erased"))
        session.execute(update(Approval).where(Approval.message_id.in_(everything)).values(reason=""))
        session.execute(update(RoutingDecision).where(RoutingDecision.message_id.in_(everything)).values(reason=""))
        session.execute(update(TriageCorrection).where(TriageCorrection.message_id.in_(everything)).values(text=""))
    events = 0
    for eid, data in session.execute(select(Event.id, Event.data).where(
            (Event.case_id.in_(cases)) | (Event.message_id.in_(everything)))).all():
        session.execute(update(Event).where(Event.id == eid).values(data=_labels_only(data)))
        events += 1
    if cases:
        session.execute(update(Case).where(Case.id.in_(cases)).values(subject="(erased)", updated_at=utcnow()))
        session.execute(update(CaseTeam).where(CaseTeam.case_id.in_(cases)).values(reason=None))
        session.execute(update(Notification).where(Notification.case_id.in_(cases)).values(text=""))
    identities = session.execute(delete(ContactIdentity).where(ContactIdentity.contact_id == c.id)).rowcount
    session.execute(update(Contact).where(Contact.id == c.id).values(
        name=None, handle=None, followers=0, vip=False, erased_at=utcnow()))
    session.expire(c)
    return {"messages": len(mine), "pending": len(person.pending_ids), "cases": len(cases),
            "case_messages": len(in_cases), "events": events, "identities": identities or 0}


def _purge_search_index(session: Session) -> None:
    """SQLite: FTS5 keeps a deleted row's tokens in older index segments until they merge; 'optimize' merges
    them all now, and secure_delete overwrites freed pages with zeros instead of leaving the text in the
    file. PostgreSQL's index follows the rows; VACUUM (docs/privacy.md) reclaims the dead tuples."""
    if session.get_bind().dialect.name != "sqlite":
        return
    conn = session.connection()
    conn.exec_driver_sql("PRAGMA secure_delete = ON")
    conn.exec_driver_sql("INSERT INTO messages_search(messages_search) VALUES ('optimize')")


def find_contacts(session: Session, who: Principal, query: str, limit: int = 20) -> list[dict]:
    """Contacts whose name, handle or a platform id (or handle) contains `query`."""
    require_officer(who)
    q = (query or "").strip()
    if not q:
        return []
    like = f"%{q.lower()}%"
    ids = set(session.scalars(select(Contact.id).where(or_(func.lower(Contact.name).like(like),
                                                             func.lower(Contact.handle).like(like))).limit(limit)))
    ids |= set(session.scalars(select(ContactIdentity.contact_id).where(or_(
        func.lower(ContactIdentity.external_id).like(like), func.lower(ContactIdentity.handle).like(like),
        func.lower(ContactIdentity.name).like(like))).limit(limit)))
    if q.isdigit() and len(q) < 19:
        ids.add(int(q))
    rows = list(session.scalars(select(Contact).where(Contact.id.in_(ids)).order_by(Contact.id).limit(limit)))
    channels = dict(session.execute(select(Channel.id, Channel.key)).all())
    return [{"id": r.id, "name": r.name, "handle": r.handle, "message_count": r.message_count,
             # One identity per channel: the same platform id on two channels of one platform is shown with both.
             "identities": [{"external_id": i.external_id, "handle": i.handle, "channel": channels.get(i.channel_id)}
                            for i in sorted(r.identities, key=lambda i: (i.external_id, i.channel_id))],
             "erased_at": r.erased_at} for r in rows]


def requests(session: Session, who: Principal, limit: int = 50) -> list[PrivacyRequest]:
    require_officer(who)
    return list(session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id.desc()).limit(limit)))
