"""Access for one person: everything OneVoice holds about a contact, as one JSON document.

Their contact record and platform identities; every message they wrote (text, the platform's payload as
received, attachments, triage); their cases with every message in them (our replies too), the history
(notes included) and the routing decisions; notes elsewhere that mention them; the corrections people
made to their messages' triage; earlier privacy requests about them. Taking an export is audited
(`privacy.export`), naming the request, not the person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice import __version__
from onevoice.audit import log as audit
from onevoice.auth.principal import Principal
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.db import utcnow
from onevoice.events.models import Event
from onevoice.messages.models import Message, RoutingDecision
from onevoice.privacy import sweep
from onevoice.privacy.erasure import check_reference, gather, refuse_if_waiting, require_officer
from onevoice.privacy.models import PrivacyRequest
from onevoice.triage.models import TriageCorrection


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _row(obj, skip: tuple[str, ...] = ()) -> dict:
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in skip}


def export(session: Session, who: Principal, contact_id: int, reference: str = "", ip: str | None = None,
           waiting: list = ()) -> dict:
    """The document (JSON-ready). Recorded as a privacy request and in the audit log. `waiting`: webhook
    deliveries not yet stored as messages (erasure.store_received): one naming them makes it refuse, since
    the document would miss what it holds."""
    require_officer(who)
    person = gather(session, contact_id)
    reference = check_reference(reference, person.needles)
    refuse_if_waiting(waiting, person.needles)
    channels = dict(session.execute(select(Channel.id, Channel.key)).all())
    contact = person.contact
    messages = list(session.scalars(select(Message).where(Message.id.in_(
        sorted(set(person.message_ids) | set(person.case_message_ids)))).order_by(Message.id)))
    cases = list(session.scalars(select(Case).where(Case.id.in_(person.case_ids)).order_by(Case.id)))
    events = list(session.scalars(select(Event).where(
        Event.case_id.in_(person.case_ids) | Event.message_id.in_(person.message_ids)).order_by(Event.id)))
    decisions = list(session.scalars(select(RoutingDecision).where(
        RoutingDecision.message_id.in_(person.message_ids)).order_by(RoutingDecision.id)))
    corrections = list(session.scalars(select(TriageCorrection).where(
        TriageCorrection.message_id.in_(person.message_ids)).order_by(TriageCorrection.id)))
    earlier = list(session.scalars(select(PrivacyRequest).where(PrivacyRequest.contact_id == contact_id)
                                   .order_by(PrivacyRequest.id)))
    doc = {
        "format": "onevoice-contact-export-v1", "generated_at": utcnow().isoformat(), "onevoice": __version__,
        "contact": _row(contact),
        "identities": [{**_row(i), "channel": channels.get(i.channel_id)} for i in contact.identities],
        "messages": [{**_row(m), "channel": channels.get(m.channel_id),
                      "written_by_contact": m.contact_id == contact_id} for m in messages],
        "cases": [_row(c) for c in cases],
        "history": [_row(e) for e in events],
        "routing_decisions": [_row(d) for d in decisions],
        "triage_corrections": [_row(c) for c in corrections],
        # Where else their name, handle or ids appear (another customer's message, a note elsewhere): counts
        # per table and column, for the officer to review.
        "mentioned_elsewhere": sweep.find(session, person.needles),
        "privacy_requests": [_row(r) for r in earlier],
    }
    request = PrivacyRequest(kind="export", contact_id=contact_id, reference=reference, requested_by=who.label,
                             counts={"messages": len(messages), "cases": len(cases), "history": len(events)})
    session.add(request)
    session.flush()
    audit.record(session, who, "privacy.export", f"privacy_request:{request.id}",
                 {"reference": reference, "messages": len(messages), "cases": len(cases)}, ip)
    return doc
