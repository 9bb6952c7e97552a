"""Mastodon notifications (GET /api/v1/notifications) -> OneVoice messages."""

from __future__ import annotations

from typing import Any

from onevoice.connectors.base import Attachment, InboundMessage, PayloadError, attachment, inbound
from onevoice.connectors.html_text import html_to_text

# "mention" covers mentions and direct messages; "update" is an edit of a post we were notified about.
TYPES = ("mention", "update")


def notification_to_message(n: Any) -> InboundMessage | None:
    if not isinstance(n, dict) or "type" not in n:
        raise PayloadError("Mastodon notification without a type")
    if n["type"] not in TYPES:
        return None
    status = n.get("status")
    if not isinstance(status, dict) or not status.get("id"):
        raise PayloadError(f"Mastodon {n['type']} notification {n.get('id')} without a status")
    account = status.get("account") or n.get("account") or {}
    return inbound(
        # The status id, not the notification id: an edit must land on the message it edits.
        external_id=status["id"],
        kind="direct" if status.get("visibility") == "direct" else "mention",
        author={
            "external_id": account.get("id") or "",
            "handle": f"@{account['acct']}" if account.get("acct") else None,
            "name": account.get("display_name") or account.get("username"),
            "followers": account.get("followers_count"),
        },
        text=html_to_text(status.get("content")),
        created_at=status.get("created_at") or n.get("created_at"),
        in_reply_to=status.get("in_reply_to_id"),
        url=status.get("url") or status.get("uri"),
        raw=n,
        edited=n["type"] == "update" or bool(status.get("edited_at")),
        attachments=attachments(status),
    )


MEDIA_TYPES = {"image": "image", "gifv": "video", "video": "video", "audio": "audio"}


def attachments(status: dict) -> list[Attachment | None]:
    """media_attachments (the server's copies) and the link preview card."""
    out = [
        attachment(MEDIA_TYPES.get(str(m.get("type")), "file"), m.get("url") or m.get("remote_url"),
                   m.get("description"))
        for m in status.get("media_attachments") or []
        if isinstance(m, dict)
    ]
    card = status.get("card")
    if isinstance(card, dict):
        out.append(attachment("link", card.get("url"), card.get("title")))
    return out


def id_key(value: str) -> tuple[int, str]:
    # Snowflake ids are numeric strings of varying length; ULIDs (GoToSocial) are fixed-length.
    return (len(value), value)
