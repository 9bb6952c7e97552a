"""Inbound from connectors: webhook deliveries and polls land in intake; unreadable ones are kept.

Connectors report an author's edit or deletion as the same external id with `edited` / `deleted`.
Intake is idempotent on that id, so a change cannot simply be inserted: it is applied to the message we
hold (text replaced and `edited_at` set; or `deleted_at` set with the text kept for the record), with
the text before in a `message.edited` / `message.deleted_on_platform` event on the case's history.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onevoice.channels.models import Channel, InboundFailure
from onevoice.db import utcnow
from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.pipeline.intake import AcceptResult, accept_batch
from onevoice.pipeline.validate import Invalid, clean_attachments, clean_text


def store_failure(session: Session, channel: Channel, headers: dict, body: bytes, error: str) -> InboundFailure:
    failure = InboundFailure(channel_id=channel.id, headers={k: clean_text(v)[:500] for k, v in headers.items()},
                             body=clean_text(body.decode("utf-8", "replace")), error=error[:2000])
    session.add(failure)
    session.flush()
    return failure


def accept_from_connector(session: Session, channel: Channel, items: list[dict], max_text: int) -> AcceptResult:
    """Intake for connector output, in the order the connector gave it.

    An edit or deletion of a message we already hold is applied to it. One of a message earlier in the
    same batch is folded into that item (a poll can return a post and its edit together). One of a
    message we never saw is stored as it now stands, marked; a deletion of a message we never saw is
    kept for the record but not triaged (there is nothing left to answer).
    """
    plain: list[dict] = []
    pending: dict[str, dict] = {}  # external id -> the item in `plain` that will create it
    changes: list[dict] = []
    for item in items:
        item = {**item, "channel": channel.key}
        key = str(item.get("external_id"))
        if item.get("edited") or item.get("deleted"):
            if key in pending:
                _fold(pending[key], item)
            else:
                changes.append(item)
            continue
        pending.setdefault(key, item)
        plain.append(item)
    held = _held(session, channel, [str(c.get("external_id")) for c in changes])
    unseen_deletions: set[str] = set()
    for item in changes:
        key = str(item.get("external_id"))
        if key in held:
            _apply_change(session, channel, held[key], item)
        elif key in pending:  # a second change of a message first seen in this batch
            _fold(pending[key], item)
        else:
            pending[key] = item
            plain.append(item)
            if item.get("deleted"):
                unseen_deletions.add(key)
    result = accept_batch(session, [_row(i) for i in plain], max_text=max_text, max_batch=max(1000, len(plain)))
    _mark_new(session, channel, plain, result, unseen_deletions)
    return result


def _fold(target: dict, change: dict) -> None:
    """Apply a change to an item not stored yet: the newest text wins, the marks accumulate."""
    if change.get("deleted"):
        target["deleted"] = True
    else:
        target["text"] = change.get("text") or ""
        target["edited"] = True
        if change.get("attachments") is not None:
            target["attachments"] = change.get("attachments")


def _row(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in ("edited", "deleted")}


def _held(session: Session, channel: Channel, external_ids: list[str]) -> dict[str, tuple]:
    if not external_ids:
        return {}
    rows = session.execute(
        select(Message.external_id, Message.id, Message.text, Message.case_id, Message.deleted_at,
               Message.attachments)
        .where(Message.channel_id == channel.id, Message.external_id.in_(set(external_ids)))
    ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def _apply_change(session: Session, channel: Channel, held: tuple, item: dict) -> None:
    """Record an edit or deletion of a message we hold; a repeated delivery of the same change is a no-op."""
    mid, old_text, case_id, deleted_at, old_attachments = held
    now = utcnow()
    if item.get("deleted"):
        if deleted_at is not None:
            return
        # The text stays: the record of what the customer said (and what we answered) must survive.
        session.execute(update(Message).where(Message.id == mid).values(deleted_at=now))
        session.add(Event(kind="message.deleted_on_platform", message_id=mid, case_id=case_id, actor=channel.key,
                          data={"text_before": old_text}))
        return
    new_text = clean_text(str(item.get("text") or ""))
    values: dict = {"text": new_text, "edited_at": now}
    data: dict = {"text_before": old_text, "text_after": new_text}
    if "attachments" in item:  # connectors leave the key out when the platform said nothing about media
        try:
            values["attachments"] = clean_attachments(item["attachments"])
        except Invalid as exc:
            data["attachments_refused"] = str(exc)  # the text edit still applies; the reason is on record
    if new_text == old_text and values.get("attachments", old_attachments) == old_attachments:
        return  # a redelivered edit, or an edit of something we do not keep (e.g. a reaction)
    session.execute(update(Message).where(Message.id == mid).values(**values))
    session.add(Event(kind="message.edited", message_id=mid, case_id=case_id, actor=channel.key, data=data))


def _mark_new(session: Session, channel: Channel, plain: list[dict], result: AcceptResult,
              unseen_deletions: set[str]) -> None:
    """Set the edited / deleted marks on rows this batch created."""
    fresh = {a["external_id"]: a["id"] for a in result.accepted if not a["duplicate"]}
    now = utcnow()
    edited = [fresh[str(i["external_id"])] for i in plain if i.get("edited") and str(i["external_id"]) in fresh]
    deleted = [fresh[str(i["external_id"])] for i in plain if i.get("deleted") and str(i["external_id"]) in fresh]
    if edited:
        session.execute(update(Message).where(Message.id.in_(edited)).values(edited_at=now))
    if deleted:
        session.execute(update(Message).where(Message.id.in_(deleted)).values(deleted_at=now))
    gone = [fresh[k] for k in unseen_deletions if k in fresh]
    if gone:
        # Taken out of the queue before a worker sees it: the processor only takes 'accepted' rows.
        session.execute(update(Message).where(Message.id.in_(gone)).values(status="processed", processed_at=now))

