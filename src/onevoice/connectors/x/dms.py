"""X direct messages (API v2 dm_events) -> OneVoice messages.

GET /2/dm_events lists the account's recent DM events newest first, with no since_id: a poll reads pages
until it reaches the cursor's event id. Only MessageCreate events are conversation; the events the account
itself sent are our replies, already recorded outbound.
"""

from __future__ import annotations

from typing import Any

from onevoice.connectors.base import InboundMessage, PayloadError, inbound
from onevoice.connectors.x.mapping import author, media_attachments, media_by_key, users_by_id

DM_EVENT_FIELDS = ["id", "text", "event_type", "dm_conversation_id", "created_at", "sender_id", "attachments"]
DM_EXPANSIONS = ["sender_id", "attachments.media_keys"]


def page_events(page: Any) -> list[dict]:
    if not isinstance(page, dict) or "meta" not in page:
        raise PayloadError("X dm_events response without 'meta'")
    events = page.get("data") or []
    if not all(isinstance(e, dict) and str(e.get("id", "")).isdigit() for e in events):
        raise PayloadError("X DM event without a numeric id")
    return events


def event_to_message(event: dict, page: dict) -> InboundMessage:
    return inbound(
        external_id=event["id"],
        kind="direct",
        author=author(event.get("sender_id"), users_by_id(page)),
        text=event.get("text"),
        created_at=event.get("created_at"),
        url=None,  # a DM has no public link
        raw=event,
        attachments=media_attachments((event.get("attachments") or {}).get("media_keys"), media_by_key(page)),
    )
