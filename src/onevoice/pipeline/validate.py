"""Turn one untrusted intake item into a clean row, or a reason a person can read.

Hand-written rather than a pydantic model: each rejection must name the field in plain words, and
this runs for every message on the hot path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from onevoice.messages.models import KINDS

MAX_ID = 300
MAX_ATTACHMENTS = 20
ATTACHMENT_TYPES = ("image", "video", "audio", "link", "file")
# Reach is kept in 32-bit integer columns (contacts, identities; PostgreSQL's `integer`): a larger count, which
# no real account has, is kept as this much rather than failing the message in processing.
MAX_FOLLOWERS = 2**31 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


class Invalid(ValueError):
    """The item cannot be accepted; the message says why."""


@dataclass(slots=True)
class CleanMessage:
    channel: str
    external_id: str
    kind: str
    author: dict
    text: str
    created_at: datetime
    in_reply_to: str | None
    url: str | None
    raw: dict | None
    attachments: list[dict] | None = None


def clean_text(value: str) -> str:
    """Keep every character a person could have typed; drop what no database can store.

    NUL bytes (PostgreSQL rejects them) and lone surrogates (not encodable as UTF-8) become U+FFFD.
    """
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATE.sub("\ufffd", value)
    return value


def _ident(item: dict, key: str, where: str, required: bool = True) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise Invalid(f"missing field '{where}'")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid(f"'{where}' must be a string, got {type(value).__name__}")
    value = clean_text(str(value)).strip()
    if not value:
        raise Invalid(f"'{where}' is empty")
    if len(value) > MAX_ID:
        raise Invalid(f"'{where}' is too long ({len(value)} characters, at most {MAX_ID})")
    return value


def parse_datetime(value: object, where: str = "created_at") -> datetime:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise Invalid(f"'{where}' is not an ISO 8601 date: {value[:40]!r}") from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            dt = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise Invalid(f"'{where}' is not a valid timestamp: {value!r}") from None
    else:
        raise Invalid(f"'{where}' must be an ISO 8601 date string")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if not 1990 <= dt.year <= 2200:
        raise Invalid(f"'{where}' is out of range: {dt.isoformat()}")
    return dt.astimezone(UTC)


def validate(item: object, max_text: int, now: datetime) -> CleanMessage:
    if not isinstance(item, dict):
        raise Invalid(f"a message must be a JSON object, got {type(item).__name__}")
    channel = _ident(item, "channel", "channel")
    external_id = _ident(item, "external_id", "external_id")
    kind = item.get("kind") or "mention"
    if kind not in KINDS:
        raise Invalid(f"unknown kind {str(kind)[:40]!r}: use one of {', '.join(KINDS)}")
    author = item.get("author")
    if not isinstance(author, dict):
        raise Invalid("missing field 'author' (an object with at least 'external_id')")
    author_id = _ident(author, "external_id", "author.external_id")
    followers = author.get("followers", 0)
    if followers is None:
        followers = 0
    if isinstance(followers, float) and followers.is_integer() and followers >= 0:
        # A count beyond 64 bits reaches us as a float (orjson reads such integers so): still a count.
        followers = int(followers)
    if isinstance(followers, bool) or not isinstance(followers, int) or followers < 0:
        raise Invalid("'author.followers' must be a whole number, 0 or more")
    clean_author = {"external_id": author_id, "followers": min(followers, MAX_FOLLOWERS)}
    for key in ("handle", "name"):
        value = author.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise Invalid(f"'author.{key}' must be a string")
            clean_author[key] = clean_text(value)[:300]
    text = item.get("text", "")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise Invalid(f"'text' must be a string, got {type(text).__name__}")
    if len(text) > max_text:
        raise Invalid(f"text too long ({len(text)} characters, at most {max_text})")
    created = item.get("created_at")
    created_at = now if created is None else parse_datetime(created)
    in_reply_to = _ident(item, "in_reply_to", "in_reply_to", required=False)
    url = item.get("url")
    if url is not None and (not isinstance(url, str) or len(url) > 2000):
        raise Invalid("'url' must be a string of at most 2000 characters")
    raw = item.get("raw")
    if raw is not None and not isinstance(raw, dict):
        raise Invalid("'raw' must be a JSON object")
    return CleanMessage(channel, external_id, kind, clean_author, clean_text(text), created_at,
                        in_reply_to, clean_text(url) if url else None, raw, clean_attachments(item.get("attachments")))


def clean_attachments(value: object) -> list[dict] | None:
    """[{type, url, alt}] with web links only: the case page shows them as links, so nothing else is kept."""
    if value is None or value == []:
        return None
    if not isinstance(value, list):
        raise Invalid("'attachments' must be a list of {type, url, alt} objects")
    if len(value) > MAX_ATTACHMENTS:
        raise Invalid(f"too many attachments ({len(value)}, at most {MAX_ATTACHMENTS})")
    out = []
    for i, a in enumerate(value):
        if not isinstance(a, dict):
            raise Invalid(f"attachment #{i} must be an object with 'type' and 'url'")
        kind, url, alt = a.get("type") or "file", a.get("url"), a.get("alt")
        if kind not in ATTACHMENT_TYPES:
            raise Invalid(f"attachment #{i}: unknown type {str(kind)[:40]!r}: use one of {', '.join(ATTACHMENT_TYPES)}")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2000:
            raise Invalid(f"attachment #{i}: 'url' must be an http(s) link of at most 2000 characters")
        if alt is not None and not isinstance(alt, str):
            raise Invalid(f"attachment #{i}: 'alt' must be a string")
        out.append({"type": kind, "url": clean_text(url), "alt": clean_text(alt)[:1000] if alt else None})
    return out
