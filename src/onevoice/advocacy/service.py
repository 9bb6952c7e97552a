"""Customer advocates: who champions the brand, who runs it down, who moved; marks; thanks; export.

    overview(session, who)              advocates and detractors ranked (advocacy/ranking.py), the movers
    contact_detail(session, who, id)    one customer: standing, identities, messages, the cases they may see
    set_marks(session, who, id, marks)  advocate / vip / detractor_watch (coordinators and admins; audited)
    thank(session, who, id, text)       a reply on the customer's latest case, through desk.replies: the
                                        policy guard, the approval rules and the audit log, like any reply
    export_rows(session, who)           the ranking as CSV rows, every cell spreadsheet-safe
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from onevoice.advocacy import ranking, repository
from onevoice.audit import log as audit
from onevoice.auth.principal import Principal
from onevoice.cases.access import visible_ids
from onevoice.contacts.service import display_names, get_contact
from onevoice.db import utcnow
from onevoice.desk.replies import send_reply
from onevoice.errors import Forbidden, InvalidInput, NotFound

# Read the ranking and a customer's standing: the organization's view of its customers (executives included).
READERS = frozenset({"admin", "coordinator", "manager", "viewer"})
# Put or take away a mark: it changes routing (playbooks read marks), so the playbook's owners.
MARKERS = frozenset({"admin", "coordinator"})
MARKS = {"advocate": "Advocate", "vip": "VIP", "detractor_watch": "Detractor to watch"}
HORIZON = ranking.HORIZON  # older messages weigh under 6% (half-life 90 days): not read at all
WINDOW = timedelta(days=30)
TREND_WEEKS = ranking.TREND_WEEKS
# What the thank-you form starts with; the person edits it, and the guard checks what they send.
THANK_TEXT = ("Thank you for recommending us, it means a lot to the whole team. Would you like to join our "
              "customer community and hear about new features first?")


def require_reader(who: Principal) -> None:
    if who.role not in READERS:
        raise Forbidden(f"the advocates are seen by {', '.join(sorted(READERS))} (you are {who.role})")


def _row(session: Session, s: ranking.Standing, contacts: dict, names: dict) -> dict:
    c = contacts.get(s.contact_id)
    return {"contact_id": s.contact_id, "name": names.get(s.contact_id, f"contact {s.contact_id}"),
            "handle": c.handle if c else None, "followers": s.followers, "advocacy": round(s.advocacy, 2),
            "detraction": round(s.detraction, 2), "net": round(s.net, 2), "status": s.status,
            "positive": s.positive, "negative": s.negative, "recommendations": s.recommendations,
            "last_at": s.last_at, "marks": marks_of(c) if c else []}


def marks_of(contact) -> list[str]:
    """A contact's marks in display order (the VIP flag counts as the `vip` mark)."""
    have = set(contact.marks or []) | ({"vip"} if contact.vip else set())
    return [m for m in MARKS if m in have]


def overview(session: Session, who: Principal, now: datetime | None = None, limit: int = 50) -> dict:
    """Advocates and detractors ranked, who moved between them in the last 30 days, and the marked customers."""
    require_reader(who)
    now = now or utcnow()
    hist = repository.histories(session, now - ranking.HISTORY)
    advocates, detractors = ranking.rank(hist, now)
    moves = ranking.movement(hist, now, WINDOW)
    marked = repository.marked_contact_ids(session)
    wanted = {s.contact_id for s in advocates[:limit] + detractors[:limit]} | {m.contact_id for m in moves[:limit]}
    contacts = repository.contacts_by_id(session, sorted(wanted | set(marked)))
    names = display_names(session, list(contacts.values()))
    standings = {s.contact_id: s for s in ranking.standings({k: v for k, v in hist.items() if k in contacts}, now)}
    before = ranking.counts(hist, now - WINDOW)
    return {
        "advocates": [_row(session, s, contacts, names) for s in advocates[:limit]],
        "detractors": [_row(session, s, contacts, names) for s in detractors[:limit]],
        "moves": [{**_row(session, m.standing, contacts, names), "before": m.before, "after": m.after}
                  for m in moves[:limit]],
        "marked": [_row(session, standings.get(cid) or ranking.standing(cid, [], contacts[cid].followers, now),
                        contacts, names) for cid in marked if cid in contacts],
        "counts": {"advocates": len(advocates), "detractors": len(detractors),
                   "advocates_before": before["advocate"], "detractors_before": before["detractor"]},
        "trend": [{"at": at, "advocates": c["advocate"], "detractors": c["detractor"]}
                  for at, c in ranking.trend(hist, now, TREND_WEEKS)],
        "window_days": WINDOW.days, "now": now,
    }


def contact_detail(session: Session, who: Principal, contact_id: int, now: datetime | None = None) -> dict:
    """One customer across every identity: standing, identities, recent messages, the cases this person may
    see (others are counted, not shown)."""
    require_reader(who)
    now = now or utcnow()
    contact = get_contact(session, contact_id)
    hist = repository.histories(session, now - HORIZON, [contact.id])
    signals, followers = hist.get(contact.id, ([], contact.followers or 0))
    s = ranking.standing(contact.id, signals, followers, now)
    cases = repository.contact_cases(session, contact.id)
    seen = visible_ids(session, who, [c.id for c in cases])
    keys = repository.channel_keys(session)
    messages = [{"id": m.id, "text": m.text, "at": m.created_at, "channel": keys.get(m.channel_id),
                 "sentiment": (m.triage or {}).get("sentiment"), "intent": (m.triage or {}).get("intent"),
                 "recommends": ranking.recommends(m.text), "case_id": m.case_id if m.case_id in seen else None}
                for m in repository.recent_messages(session, contact.id)]
    return {"contact_id": contact.id, "name": display_names(session, [contact])[contact.id],
            "handle": contact.handle, "followers": contact.followers, "marks": marks_of(contact),
            "standing": _row(session, s, {contact.id: contact}, {contact.id: ""}) | {"name": ""},
            "identities": repository.identities(session, contact.id), "messages": messages,
            "cases": [{"id": c.id, "subject": c.subject, "status": c.status, "priority": c.priority,
                       "intent": c.intent, "last_at": c.last_message_at} for c in cases if c.id in seen],
            "hidden_cases": sum(1 for c in cases if c.id not in seen),
            "can_mark": who.role in MARKERS, "can_thank": who.can_act and any(c.id in seen for c in cases)}


def set_marks(session: Session, who: Principal, contact_id: int, marks: list[str], ip: str | None = None) -> list[str]:
    """Replace a customer's marks (VIP is the contact's VIP flag, which routing's `vip` condition reads too)."""
    if who.role not in MARKERS:
        raise Forbidden("only admins and coordinators mark customers (marks change routing)")
    wanted = [str(m).strip() for m in marks if str(m).strip()]
    unknown = sorted(set(wanted) - set(MARKS))
    if unknown:
        raise InvalidInput(f"unknown mark {unknown[0]!r}: one of {', '.join(MARKS)}")
    if "advocate" in wanted and "detractor_watch" in wanted:
        raise InvalidInput("a customer is marked advocate or detractor to watch, not both")
    contact = get_contact(session, contact_id)
    before = marks_of(contact)
    contact.marks = [m for m in MARKS if m in wanted and m != "vip"]
    contact.vip = "vip" in wanted
    after = marks_of(contact)
    if after != before:
        audit.record(session, who, "contact.mark", f"contact:{contact.id}", {"before": before, "after": after}, ip)
    session.flush()
    return after


def thank(session: Session, who: Principal, contact_id: int, text: str, case_id: int | None = None):
    """Thank or invite a customer: a reply on their most recent case this person may act on (or `case_id`),
    sent through the normal reply path (guard, approvals, outbox, audit). Returns the reply's outcome."""

    require_reader(who)
    if not who.can_act:
        raise Forbidden(f"the {who.role} role reads, it does not reply")
    contact = get_contact(session, contact_id)
    cases = repository.contact_cases(session, contact.id)
    seen = visible_ids(session, who, [c.id for c in cases])
    choices = [c.id for c in cases if c.id in seen]
    if case_id is not None and case_id not in choices:
        raise NotFound(f"no case {case_id} of this customer that you may see")
    target = case_id or (choices[0] if choices else None)
    if target is None:
        raise InvalidInput("this customer has no case you may reply on: a thank-you goes out as a reply on the "
                           "channel they wrote on")
    outcome = send_reply(session, who, target, text, confirm=True)
    audit.record(session, who, "advocate.thank", f"contact:{contact.id}",
                 {"case_id": target, "held": outcome.job_id is None, "chars": len(text or "")})
    return target, outcome


EXPORT_FIELDS = ("list", "contact_id", "name", "handle", "followers", "net", "advocacy", "detraction", "positive",
                 "negative", "recommendations", "last_message_at", "marks")


def export_csv(session: Session, who: Principal, now: datetime | None = None) -> str:
    """The ranking (advocates, detractors, movers) as CSV; names and handles are the customers' own text, so
    every cell is made spreadsheet-safe (no formula runs when the file is opened)."""
    data = overview(session, who, now, limit=10_000)
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(EXPORT_FIELDS)
    for list_name in ("advocates", "detractors", "moves"):
        for r in data[list_name]:
            label = list_name if list_name != "moves" else f"moved {r['before']} -> {r['after']}"
            out.writerow([audit.spreadsheet_safe(v) for v in (
                label, r["contact_id"], r["name"], r["handle"] or "", r["followers"], r["net"], r["advocacy"],
                r["detraction"], r["positive"], r["negative"], r["recommendations"],
                r["last_at"].isoformat() if r["last_at"] else "", " ".join(r["marks"]))])
    return buf.getvalue()
