"""Reddit listings (inbox mentions, subreddit comments) -> OneVoice messages."""

from __future__ import annotations

import re
from typing import Any

from onevoice.connectors.base import Attachment, InboundMessage, PayloadError, attachment, inbound

GONE = {"[deleted]", "[removed]"}


def listing_children(listing: Any) -> list[dict]:
    if not isinstance(listing, dict) or listing.get("kind") != "Listing":
        raise PayloadError("Reddit response is not a Listing")
    children = (listing.get("data") or {}).get("children")
    if not isinstance(children, list):
        raise PayloadError("Reddit Listing without children")
    return [c["data"] for c in children if isinstance(c, dict) and c.get("kind") == "t1" and "data" in c]


def comment_to_message(d: dict, kind: str) -> InboundMessage:
    if not d.get("name") or "created_utc" not in d:
        raise PayloadError("Reddit comment without a fullname or created_utc")
    author = d.get("author")
    link = d.get("permalink") or d.get("context")
    return inbound(
        external_id=d["name"],  # the fullname (t1_...), which is also what replies target
        kind=kind,
        author={
            "external_id": d.get("author_fullname") or author or "",
            "handle": f"u/{author}" if author and author not in GONE else None,
            "name": None,
        },
        text=d.get("body"),
        created_at=float(d["created_utc"]),
        in_reply_to=d.get("parent_id"),
        url=f"https://www.reddit.com{link.split('?')[0]}" if link else None,
        raw=d,
        # `edited` is false or the unix time of the last edit.
        edited=bool(d.get("edited")),
        deleted=d.get("body") in GONE,
        attachments=media_attachments(d.get("media_metadata")),
    )


def media_attachments(metadata: Any) -> list[Attachment | None]:
    """Images and GIFs posted in a comment (media_metadata; URLs unescaped because we ask for raw_json=1)."""
    out: list[Attachment | None] = []
    for item in (metadata or {}).values() if isinstance(metadata, dict) else []:
        if not isinstance(item, dict) or item.get("status") != "valid":
            continue
        source = item.get("s") or {}
        kind = "image" if item.get("e") == "Image" else "video"
        out.append(attachment(kind, source.get("u") or source.get("gif") or source.get("mp4")))
    return out


_MINUTES = re.compile(r"(\d+)\s*(minute|second)")


def api_errors_retry_after(errors: list) -> float | None:
    """Reddit's RATELIMIT error says "try again in 9 minutes" in prose; that is the only hint."""
    for err in errors:
        if err and err[0] == "RATELIMIT":
            m = _MINUTES.search(str(err[1]))
            if m:
                return float(m.group(1)) * (60 if m.group(2) == "minute" else 1)
            return 60.0
    return None
