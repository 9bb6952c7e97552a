"""The generic webhook's payload: OneVoice's own message shape, so any system can post to us."""

from __future__ import annotations

from typing import Any

from onevoice.connectors.base import InboundMessage, PayloadError, inbound


def messages_from_body(body: Any) -> list[InboundMessage]:
    """Accept one message object, a list of them, or {"messages": [...]}."""
    if isinstance(body, dict) and "messages" in body:
        items = body["messages"]
    elif isinstance(body, list):
        items = body
    else:
        items = [body]
    if not isinstance(items, list) or not items:
        raise PayloadError("expected a message object, a list of messages, or {'messages': [...]}")
    return [message_from_item(item, i) for i, item in enumerate(items)]


def message_from_item(item: Any, index: int = 0) -> InboundMessage:
    if not isinstance(item, dict):
        raise PayloadError(f"message #{index} is not an object")
    external_id = item.get("external_id") or item.get("id")
    if not external_id:
        raise PayloadError(f"message #{index} has no external_id")
    author = item.get("author") or {}
    if not isinstance(author, dict):
        raise PayloadError(f"message #{index}: author must be an object")
    created_at = item.get("created_at")
    if created_at is None:
        raise PayloadError(f"message #{index} has no created_at")
    text = item.get("text")
    if text is not None and not isinstance(text, str):
        raise PayloadError(f"message #{index}: text must be a string")
    attachments = item.get("attachments") or []
    if not isinstance(attachments, list):
        raise PayloadError(f"message #{index}: attachments must be a list of {{type, url, alt}} objects")
    return inbound(
        external_id=external_id,
        kind=item.get("kind") or "post",
        author={
            "external_id": author.get("external_id") or author.get("id") or author.get("handle") or "",
            "handle": author.get("handle"),
            "name": author.get("name"),
            "followers": author.get("followers"),
        },
        text=text,
        created_at=created_at,
        in_reply_to=item.get("in_reply_to"),
        url=item.get("url"),
        raw=item,
        edited=bool(item.get("edited")),
        deleted=bool(item.get("deleted")),
        # Passed as sent: intake validates each one and rejects the message with the reason.
        attachments=attachments,
    )
