"""Bluesky notifications (app.bsky.notification.listNotifications) -> OneVoice messages."""

from __future__ import annotations

from typing import Any

from onevoice.connectors.base import Attachment, InboundMessage, PayloadError, attachment, inbound

# Likes, reposts and follows are signals, not conversation.
KIND_BY_REASON = {"mention": "mention", "reply": "comment", "quote": "mention"}


def post_url(uri: str, handle: str | None) -> str | None:
    # at://did/app.bsky.feed.post/rkey -> https://bsky.app/profile/handle-or-did/post/rkey
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3:
        return None
    return f"https://bsky.app/profile/{handle or parts[0]}/post/{parts[2]}"


def notification_to_message(n: Any) -> InboundMessage | None:
    if not isinstance(n, dict) or not n.get("uri") or "reason" not in n:
        raise PayloadError("Bluesky notification without a uri or reason")
    kind = KIND_BY_REASON.get(n["reason"])
    if kind is None:
        return None
    record = n.get("record") or {}
    author = n.get("author") or {}
    parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
    return inbound(
        external_id=n["uri"],
        kind=kind,
        author={
            "external_id": author.get("did") or "",
            "handle": f"@{author['handle']}" if author.get("handle") else None,
            "name": author.get("displayName"),
            "followers": author.get("followersCount"),
        },
        text=record.get("text"),
        created_at=record.get("createdAt") or n.get("indexedAt"),
        in_reply_to=parent,
        url=post_url(n["uri"], author.get("handle")),
        raw=n,
        attachments=embed_attachments(record.get("embed"), author.get("did")),
    )


def _cid(blob: Any) -> str | None:
    return ((blob or {}).get("ref") or {}).get("$link") if isinstance(blob, dict) else None


def embed_attachments(embed: Any, did: str | None) -> list[Attachment | None]:
    """A post record's embed: images and video are blobs in the author's repo (served by Bluesky's CDN
    and video service by DID and CID); an external embed is a link card."""
    if not isinstance(embed, dict) or not did:
        return []
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia":
        return embed_attachments(embed.get("media"), did)
    if kind == "app.bsky.embed.images":
        return [
            attachment("image", f"https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg", img.get("alt"))
            for img in embed.get("images") or []
            if isinstance(img, dict) and (cid := _cid(img.get("image")))
        ]
    if kind == "app.bsky.embed.video" and (cid := _cid(embed.get("video"))):
        return [attachment("video", f"https://video.bsky.app/watch/{did}/{cid}/playlist.m3u8", embed.get("alt"))]
    if kind == "app.bsky.embed.external":
        ext = embed.get("external") or {}
        return [attachment("link", ext.get("uri"), ext.get("title"))]
    return []


def reply_refs(parent_raw: dict) -> dict:
    """Root and parent strong refs for answering `parent_raw`: the thread's root stays the root."""
    if not parent_raw.get("uri") or not parent_raw.get("cid"):
        raise PayloadError("parent is not a Bluesky post notification (no uri/cid)")
    parent = {"uri": parent_raw["uri"], "cid": parent_raw["cid"]}
    root = ((parent_raw.get("record") or {}).get("reply") or {}).get("root") or parent
    return {"root": {"uri": root["uri"], "cid": root["cid"]}, "parent": parent}
