"""Facebook Page and Instagram webhook payloads -> OneVoice messages.

Shapes follow Meta's webhook reference: `{"object": "page"|"instagram", "entry": [{"id", "time",
"changes": [{"field", "value"}] | "messaging": [...]}]}`. `raw` is always the change value or the
messaging event exactly as Meta sent it; the reply path reads the ids it needs from there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onevoice.connectors.base import Attachment, InboundMessage, PayloadError, attachment, inbound

# Fetches the text of an Instagram mention, which the webhook itself does not carry.
MentionLookup = Callable[[dict[str, Any]], dict[str, Any]]


def seconds(ts: int | float) -> float:
    # Messaging events and their entries carry milliseconds; feed changes carry seconds.
    return ts / 1000 if ts > 10**11 else float(ts)


def parse(body: Any, own_ids: set[str], lookup_mention: MentionLookup) -> list[InboundMessage]:
    if not isinstance(body, dict) or body.get("object") not in ("page", "instagram"):
        raise PayloadError("not a Meta webhook: 'object' must be 'page' or 'instagram'")
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("Meta webhook without an 'entry' list")
    instagram = body["object"] == "instagram"
    out: list[InboundMessage] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise PayloadError("Meta webhook entry is not an object")
        time = entry.get("time") or 0
        for change in entry.get("changes") or []:
            msg = _change(change, time, instagram, own_ids, lookup_mention)
            if msg is not None:
                out.append(msg)
        for event in entry.get("messaging") or []:
            msg = _messaging(event, instagram, own_ids)
            if msg is not None:
                out.append(msg)
    return out


def _change(
    change: Any, time: int, instagram: bool, own_ids: set[str], lookup_mention: MentionLookup
) -> InboundMessage | None:
    if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
        raise PayloadError("Meta change without a 'value' object")
    field, value = change.get("field"), change["value"]
    if field == "feed":
        return _feed(value, own_ids)
    if instagram and field in ("comments", "live_comments"):
        return _ig_comment(value, time, own_ids)
    if instagram and field == "mentions":
        return _ig_mention(value, time, lookup_mention)
    return None  # fields we do not subscribe to for conversations (e.g. story_insights)


def _feed(value: dict, own_ids: set[str]) -> InboundMessage | None:
    item, verb = value.get("item"), value.get("verb")
    sender = value.get("from") or {}
    if str(sender.get("id")) in own_ids:
        return None  # our own replies echo back through the feed; they are already recorded outbound
    if item == "comment":
        external_id, kind = value.get("comment_id"), "comment"
        # A top-level comment's parent is the post itself; a reply's is the comment it answers.
        in_reply_to = value.get("parent_id") or value.get("post_id")
    elif item in ("status", "post", "photo", "video") and verb in ("add", "edited", "remove"):
        external_id, kind, in_reply_to = value.get("post_id"), "post", None
    else:
        return None  # reactions, likes, shares: signals, not conversation
    if not external_id:
        raise PayloadError(f"feed {item} without an id")
    return inbound(
        external_id=external_id,
        kind=kind,
        author={"external_id": sender.get("id") or "", "handle": None, "name": sender.get("name")},
        text=value.get("message"),
        created_at=seconds(value.get("created_time") or 0),
        in_reply_to=in_reply_to,
        url=f"https://www.facebook.com/{external_id}",
        raw=value,
        edited=verb == "edited",
        deleted=verb == "remove",
        attachments=feed_attachments(value),
    )


def feed_attachments(value: dict) -> list[Attachment | None]:
    """A feed change names its media by URL: `photo`, `photos`, `video`, and a shared `link`."""
    photos = value.get("photos") if isinstance(value.get("photos"), list) else []
    return [
        *(attachment("image", u) for u in [value.get("photo"), *photos]),
        attachment("video", value.get("video")),
        attachment("link", value.get("link")),
    ]


MESSAGE_ATTACHMENT = {"image": "image", "video": "video", "audio": "audio", "file": "file", "fallback": "link",
                      "share": "link", "story_mention": "link", "ig_reel": "video", "reel": "video"}


def message_attachments(items: Any) -> list[Attachment | None]:
    """Messenger / Instagram Direct attachments: [{type, payload: {url, title}}]."""
    out: list[Attachment | None] = []
    for a in items if isinstance(items, list) else []:
        if isinstance(a, dict):
            payload = a.get("payload") or {}
            out.append(attachment(MESSAGE_ATTACHMENT.get(str(a.get("type")), "file"), payload.get("url"),
                                  payload.get("title")))
    return out


def _ig_comment(value: dict, time: int, own_ids: set[str]) -> InboundMessage | None:
    sender = value.get("from") or {}
    if str(sender.get("id")) in own_ids:
        return None
    if not value.get("id"):
        raise PayloadError("Instagram comment without an id")
    media = value.get("media") or {}
    return inbound(
        external_id=value["id"],
        kind="comment",
        author={"external_id": sender.get("id") or "", "handle": sender.get("username"), "name": None},
        text=value.get("text"),
        # The comment payload has no creation time; the entry's time is when Meta saw it.
        created_at=seconds(time),
        in_reply_to=value.get("parent_id") or media.get("id"),
        url=None,
        raw=value,
    )


def _ig_mention(value: dict, time: int, lookup_mention: MentionLookup) -> InboundMessage:
    if not (value.get("comment_id") or value.get("media_id")):
        raise PayloadError("Instagram mention without a media_id or comment_id")
    found = lookup_mention(value)
    media = found.get("media") or {}
    return inbound(
        external_id=value.get("comment_id") or value["media_id"],
        kind="mention",
        author={"external_id": found.get("username") or "", "handle": found.get("username"), "name": None},
        text=found.get("text") or found.get("caption"),
        created_at=found.get("timestamp") or seconds(time),
        in_reply_to=value.get("media_id") if value.get("comment_id") else None,
        url=found.get("permalink") or media.get("permalink"),
        raw=value,
    )


def _messaging(event: Any, instagram: bool, own_ids: set[str]) -> InboundMessage | None:
    if not isinstance(event, dict):
        raise PayloadError("Meta messaging event is not an object")
    sender = str((event.get("sender") or {}).get("id") or "")
    message, edit = event.get("message"), event.get("message_edit")
    if message is None and edit is None:
        return None  # deliveries, reads, reactions, postbacks
    body = message if message is not None else edit
    if not isinstance(body, dict) or not body.get("mid"):
        raise PayloadError("Meta message without a 'mid'")
    if body.get("is_echo") or sender in own_ids:
        return None  # what the page itself sent
    reply_to = (body.get("reply_to") or {}).get("mid")
    return inbound(
        external_id=body["mid"],
        kind="direct",
        author={"external_id": sender, "handle": None, "name": None},
        text=body.get("text"),
        created_at=seconds(event.get("timestamp") or 0),
        in_reply_to=reply_to,
        url=None,
        raw=event,
        edited=edit is not None,
        deleted=bool(body.get("is_deleted")),
        attachments=message_attachments(body.get("attachments")),
    )
