"""Inbound from connectors: webhook deliveries and polls land in intake; unreadable ones are kept."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onevoice.channels.models import Channel, InboundFailure
from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.pipeline.intake import AcceptResult, accept_batch
from onevoice.pipeline.validate import clean_text


def store_failure(session: Session, channel: Channel, headers: dict, body: bytes, error: str) -> InboundFailure:
    failure = InboundFailure(channel_id=channel.id, headers={k: clean_text(v)[:500] for k, v in headers.items()},
                             body=clean_text(body.decode("utf-8", "replace")), error=error[:2000])
    session.add(failure)
    session.flush()
    return failure


def accept_from_connector(session: Session, channel: Channel, items: list[dict], max_text: int) -> AcceptResult:
    """Intake for connector output. Edits and deletions of known messages are applied, not duplicated."""
    plain: list[dict] = []
    for item in items:
        item = dict(item)
        item["channel"] = channel.key
        edited, deleted = item.pop("edited", False), item.pop("deleted", False)
        if (edited or deleted) and _apply_change(session, channel, item, deleted):
            continue
        plain.append(item)
    return accept_batch(session, plain, max_text=max_text, max_batch=max(1000, len(plain)))


def _apply_change(session: Session, channel: Channel, item: dict, deleted: bool) -> bool:
    """Record an edit or deletion of a message we hold; False when we never saw the original."""
    found = session.execute(select(Message.id, Message.text, Message.case_id).where(
        Message.channel_id == channel.id, Message.external_id == str(item.get("external_id")))).first()
    if found is None:
        return False
    mid, old_text, case_id = found
    if deleted:
        session.add(Event(kind="message.deleted_on_platform", message_id=mid, case_id=case_id, actor=channel.key,
                          data={"text_before": old_text}))
    else:
        new_text = clean_text(str(item.get("text") or ""))
        session.execute(update(Message).where(Message.id == mid).values(text=new_text))
        session.add(Event(kind="message.edited", message_id=mid, case_id=case_id, actor=channel.key,
                          data={"text_before": old_text, "text_after": new_text}))
    return True
