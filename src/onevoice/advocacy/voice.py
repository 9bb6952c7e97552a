"""Employee voice: employees link their public handles (opt-in, revocable); what those handles post that the
organization's channels see (a mention, a reply) is shown to the coordinator with the guard's findings, and to
the employee, and never becomes a customer case.

The pipeline does not import this package: `claim_employee_voice` is handed to the Processor by the
composition root (runtime.build_processor) and is called once per batch, before triage and routing. Messages it
claims are stored as processed with their contact, without a case, and recorded here (and in the audit log).
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onevoice.advocacy import repository
from onevoice.advocacy.models import LinkedHandle, VoiceSighting
from onevoice.advocacy.sharing import SHARERS
from onevoice.audit import log as audit
from onevoice.auth.permissions import POLICY_OWNERS
from onevoice.auth.principal import Principal
from onevoice.db import utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.governance.guard import Finding, check_text
from onevoice.governance.guard_rules import active_rules

# An employee talking about their employer says so (endorsement rules in most countries); "#ad" et al. count.
DISCLOSURES = re.compile(r"#employee|#iwork|#ad\b|#sponsored|\bi work (?:at|for|with)\b|\bmy (?:employer|company)\b|"
                         r"\bdisclosure\b|\(employee\)", re.I)


def normalize_handle(handle: str | None) -> str:
    return (handle or "").strip().lower().lstrip("@")


def link_handle(session: Session, who: Principal, network: str, handle: str, ip: str | None = None) -> LinkedHandle:
    """Opt in: this person's public handle on a network our channels listen on."""
    if who.user_id is None or who.role not in SHARERS:
        raise Forbidden("employees link their own handles")
    network = (network or "").strip().lower()
    kinds = repository.channel_kinds(session)
    if network not in kinds:
        raise InvalidInput(f"our channels listen on {', '.join(kinds) or 'no network yet'}; not {network!r}")
    value = normalize_handle(handle)
    if not value or len(value) > 300 or re.search(r"\s", value):
        raise InvalidInput("a handle is one word such as @ana or @ana@mastodon.social")
    for h in repository.active_handles(session):
        if (h.network, h.handle) == (network, value):
            if h.user_id == who.user_id:
                return h
            raise InvalidInput("someone else has linked this handle; ask the coordinator if it is yours")
    row = LinkedHandle(user_id=who.user_id, network=network, handle=value, linked_at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, who, "advocacy.handle.link", f"user:{who.user_id}", {"network": network, "handle": value},
                 ip)
    return row


def revoke_handle(session: Session, who: Principal, handle_id: int, ip: str | None = None) -> None:
    """Opt out: the handle is no longer watched, and what was seen of it is forgotten (the audit log keeps
    that it was linked and revoked)."""
    row = session.get(LinkedHandle, handle_id)
    if row is None or row.user_id != who.user_id:
        raise NotFound(f"no handle {handle_id} of yours")
    if row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    session.execute(delete(VoiceSighting).where(VoiceSighting.handle_id == row.id))
    session.flush()
    audit.record(session, who, "advocacy.handle.revoke", f"user:{who.user_id}",
                 {"network": row.network, "handle": row.handle}, ip)


def findings_for(session: Session, text: str, channel_kind: str | None) -> list[Finding]:
    """The policy guard's findings on an employee's public text, and a missing employee disclosure."""
    found = check_text(text or "", channel_kind=channel_kind, rules=active_rules(session))
    if not DISCLOSURES.search(text or ""):
        found.append(Finding("employee-disclosure", "disclosure", "warn",
                             "an employee speaking about the organization should say so (#employee, 'I work at')",
                             None, None, None))
    return found


def claim_employee_voice(session: Session, messages: list, channel_kinds: dict[int, str]) -> dict[int, int]:
    """The pipeline's hook: {message id: handle id} for the messages written by a linked handle. One query
    per batch (the active handles, few); records a sighting with the guard's findings for each."""
    handles = {(h.network, h.handle): h for h in repository.active_handles(session)}
    if not handles:
        return {}
    claimed: dict[int, int] = {}
    for m in messages:
        kind = channel_kinds.get(m.channel_id)
        h = handles.get((kind, normalize_handle((m.author or {}).get("handle"))))
        if h is None:
            continue
        findings = findings_for(session, m.text, kind)
        session.add(VoiceSighting(handle_id=h.id, user_id=h.user_id, message_id=m.id,
                                  findings=[f.to_dict() for f in findings], seen_at=utcnow()))
        claimed[m.id] = h.id
        audit.record(session, "pipeline", "advocacy.voice.seen", f"user:{h.user_id}",
                     {"message_id": m.id, "handle": h.handle, "findings": sorted({f.rule for f in findings})})
    return claimed


def _sighting(vs: VoiceSighting, message, handle: LinkedHandle, names: dict) -> dict:
    return {"id": vs.id, "message_id": message.id, "text": message.text, "at": message.created_at,
            "url": message.url, "network": handle.network, "handle": handle.handle,
            "person": names.get(vs.user_id, ""), "findings": vs.findings, "seen_at": vs.seen_at}


def my_voice(session: Session, who: Principal) -> dict:
    """What this person linked and everything the organization has seen of it."""
    if who.user_id is None or who.role not in SHARERS:
        raise Forbidden("the employee voice page is for employees")
    names = {who.user_id: who.name}
    return {"handles": repository.handles_of(session, who.user_id), "networks": repository.channel_kinds(session),
            "seen": [_sighting(vs, m, h, names) for vs, m, h in repository.sightings(session, who.user_id)]}


def review(session: Session, who: Principal) -> list[dict]:
    """For coordinators and admins: what linked employees posted, with the guard's findings."""
    if who.role not in POLICY_OWNERS:
        raise Forbidden("employee voice is reviewed by coordinators and admins")
    rows = repository.sightings(session)
    people = repository.users_with_teams(session, {vs.user_id for vs, _m, _h in rows})
    names = {uid: u.name for uid, (u, _t) in people.items()}
    return [_sighting(vs, m, h, names) for vs, m, h in rows]


def linked_user_ids(session: Session) -> set[int]:
    return set(session.scalars(select(LinkedHandle.user_id).where(LinkedHandle.revoked_at.is_(None))))
