"""Catch-up polling behind Meta's webhooks: Page feed comments and Messenger / Instagram conversations
read from the Graph API since a per-source mark.

Webhooks stay the fast path; this finds what a missed delivery (our outage, Meta's retries given up,
a subscription briefly off) left out. Ids are the same ones webhooks carry (`{post}_{comment}`
comment ids, `m_...` message ids), so intake's idempotency absorbs everything both paths saw.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from onevoice.connectors.base import Attachment, InboundMessage, PayloadError, attachment, inbound
from onevoice.connectors.meta.client import GraphClient

LOOKBACK = timedelta(days=1)  # a first poll looks this far back; webhooks covered the rest
POSTS = 25  # most recently updated posts whose comments are read per poll
USAGE_STOP = 80.0  # percent of a Meta rate-limit budget at which a poll stops and leaves the rest for later
COMMENT_FIELDS = "id,message,created_time,from,parent{id},permalink_url,attachment"
MESSAGE_FIELDS = "id,message,created_time,from,to,attachments"


class _Budget(Exception):
    """Meta's usage headers say we are close to being throttled."""


def read_cursor(cursor: str | None) -> dict[str, float]:
    if not cursor:
        return {}
    try:
        marks = json.loads(cursor)
    except ValueError as exc:
        raise PayloadError(f"unreadable Meta cursor {cursor!r}") from exc
    if not isinstance(marks, dict) or not all(isinstance(v, int | float) for v in marks.values()):
        raise PayloadError(f"Meta cursor must map sources to unix times, got {cursor!r}")
    return marks


def poll(graph: GraphClient, page_id: str, own_ids: set[str], instagram: bool, cursor: str | None,
         now: datetime) -> tuple[list[InboundMessage], str]:
    """Everything created at or after each source's mark, oldest first, and the advanced cursor.

    A source's mark moves only when the source was read completely; items exactly at a mark come
    again and are absorbed by intake, which is what makes equal timestamps safe.
    """
    marks = read_cursor(cursor)
    default = (now - LOOKBACK).timestamp()
    sources = [("feed", lambda since: _feed(graph, page_id, since))]
    sources.append(("messenger", lambda since: _conversations(graph, page_id, "messenger", since)))
    if instagram:
        sources.append(("instagram", lambda since: _conversations(graph, page_id, "instagram", since)))
    found: dict[str, InboundMessage] = {}
    for name, read in sources:
        since = marks.get(name, default)
        try:
            items = read(since)
        except _Budget:
            break  # later sources keep their marks and are read next time
        newest = since
        for kind, obj, post_id in items:
            created = _time(obj.get("created_time"))
            if created < since or str((obj.get("from") or {}).get("id")) in own_ids:
                continue
            newest = max(newest, created)
            msg = comment_to_message(obj, post_id) if kind == "comment" else conversation_message(obj)
            found.setdefault(msg["external_id"], msg)
        marks[name] = newest
    messages = sorted(found.values(), key=lambda m: (m["created_at"], m["external_id"]))
    return messages, json.dumps(marks, sort_keys=True)


def _get(graph: GraphClient, path: str, **params: Any) -> dict:
    data = graph.get(path, **params)
    if graph.usage >= USAGE_STOP:
        raise _Budget
    if not isinstance(data.get("data"), list):
        raise PayloadError(f"Graph API answer for {path} without a 'data' list")
    return data


def _feed(graph: GraphClient, page_id: str, since: float) -> list[tuple[str, dict, str | None]]:
    posts = _get(graph, f"{page_id}/feed", fields="id,updated_time", limit=POSTS)["data"]
    out: list[tuple[str, dict, str | None]] = []
    for post in posts:
        if not post.get("id") or _time(post.get("updated_time")) < since:
            continue  # nothing on this post changed since the mark
        comments = _get(graph, f"{post['id']}/comments", fields=COMMENT_FIELDS, filter="stream",
                        order="reverse_chronological", since=int(since), limit=100)["data"]
        # A comment object does not name its post; a top-level comment threads under it.
        out.extend(("comment", c, post["id"]) for c in comments if isinstance(c, dict))
    return out


def _conversations(graph: GraphClient, page_id: str, platform: str, since: float
                   ) -> list[tuple[str, dict, str | None]]:
    threads = _get(graph, f"{page_id}/conversations", platform=platform, limit=25,
                   fields=f"id,updated_time,messages.limit(25){{{MESSAGE_FIELDS}}}")["data"]
    out: list[tuple[str, dict, str | None]] = []
    for thread in threads:
        if _time(thread.get("updated_time")) < since:
            continue
        for m in (thread.get("messages") or {}).get("data") or []:
            if isinstance(m, dict):
                out.append(("message", m, None))
    return out


def _time(value: Any) -> float:
    if not isinstance(value, str):
        raise PayloadError(f"Graph object without a readable time: {value!r}")
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError as exc:
        raise PayloadError(f"unreadable Graph time {value!r}") from exc


def comment_to_message(c: dict, post_id: str | None) -> InboundMessage:
    if not c.get("id"):
        raise PayloadError("Graph comment without an id")
    sender = c.get("from") or {}
    att = c.get("attachment") or {}
    image = ((att.get("media") or {}).get("image") or {}).get("src")
    kind = "video" if "video" in str(att.get("type")) else "image" if image else "link"
    return inbound(
        external_id=c["id"],
        kind="comment",
        author={"external_id": sender.get("id") or "", "handle": None, "name": sender.get("name")},
        text=c.get("message"),
        created_at=c.get("created_time") or 0,
        in_reply_to=(c.get("parent") or {}).get("id") or post_id,
        url=c.get("permalink_url") or f"https://www.facebook.com/{c['id']}",
        raw=c,
        attachments=[attachment(kind, image or att.get("url"), att.get("description"))] if att else [],
    )


def conversation_message(m: dict) -> InboundMessage:
    if not m.get("id"):
        raise PayloadError("Graph message without an id")
    sender = m.get("from") or {}
    return inbound(
        external_id=m["id"],
        kind="direct",
        author={"external_id": sender.get("id") or "", "handle": sender.get("username"), "name": sender.get("name")},
        text=m.get("message"),
        created_at=m.get("created_time") or 0,
        url=None,
        raw=m,
        attachments=_message_attachments(m.get("attachments")),
    )


def _message_attachments(value: Any) -> list[Attachment | None]:
    out: list[Attachment | None] = []
    for a in (value or {}).get("data") or [] if isinstance(value, dict) else []:
        if not isinstance(a, dict):
            continue
        if a.get("image_data"):
            out.append(attachment("image", a["image_data"].get("url"), a.get("name")))
        elif a.get("video_data"):
            out.append(attachment("video", a["video_data"].get("url"), a.get("name")))
        else:
            out.append(attachment("file", a.get("file_url"), a.get("name")))
    return out
