"""Approvals as the desk shows and decides them: the queue of replies and posts waiting for one person's
sign-off, and a decision that, for a reply, is recorded in its case's history."""

from __future__ import annotations

from sqlalchemy.orm import Session

from onevoice.approvals import service as approvals
from onevoice.auth.principal import Principal
from onevoice.cases.actions import record
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.governance.review import guard
from onevoice.messages.models import Message
from onevoice.posts.service import release_approved


def approval_queue(session: Session, who: Principal, refused: dict | None = None) -> list[dict]:
    """What waits for this person's decision, due first, each with its text and channel. `refused`
    ({"id", "error", "text", "note"}) is a decision that did not go through: its item keeps what was typed."""
    items = []
    for a in approvals.pending_for(session, who):
        message = session.get(Message, a.message_id)
        channel = session.get(Channel, message.channel_id)
        mine = refused if refused and refused["id"] == a.id else None
        kept = mine["text"] if mine and mine["text"] is not None else message.text
        items.append({"approval": a, "text": kept, "note": mine["note"] if mine else "",
                      "error": mine["error"] if mine else None, "channel": channel.name, "kind": channel.kind,
                      "what": "post" if a.post_id is not None else "reply"})
    return items


def decide(session: Session, who: Principal, approval_id: int, approve: bool, note: str,
           text: str | None) -> tuple[dict | None, int | None]:
    """Approve (with `text`, edited first) or reject an approval, with the policy guard and a post's release;
    a reply's decision joins its case's history. Returns (the case's live update, the case id), or
    (None, None) for a post."""
    approval = approvals.decide(session, who, approval_id, approve, note, text, guard=guard,
                                release_post=release_approved)
    if approval.case_id is None:
        return None, None
    case = session.get(Case, approval.case_id)
    live = record(session, case, who, f"reply.{approval.status}",
                  {"message_id": approval.message_id, "note": approval.decision_note or ""})
    return live, case.id
