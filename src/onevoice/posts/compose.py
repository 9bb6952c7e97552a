"""What a post may be before anything is stored: its channels, text length per channel, media and schedule.

Pure checks on plain values plus the channel rows, so the composer, the API and the tests see the same errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice import egress
from onevoice.auth.permissions import may_post_on, require_post_on
from onevoice.auth.principal import Principal
from onevoice.channels.models import Channel
from onevoice.connectors import registry
from onevoice.connectors.base import Capability
from onevoice.errors import InvalidInput
from onevoice.outbox.service import length_limit

MAX_MEDIA = 4
MAX_TEXT = 100_000
# A schedule time this close to now (or just past, from a slow form) means "now", not an error.
SCHEDULE_SLACK = timedelta(minutes=1)
MAX_AHEAD = timedelta(days=366)


def capabilities(kind: str) -> frozenset:
    """The connector's declared capabilities; none for a kind no installed connector serves."""
    try:
        return frozenset(registry.get(kind).capabilities)
    except (registry.SettingsError, ImportError):
        return frozenset()


@dataclass(frozen=True)
class ChannelChoice:
    key: str
    name: str
    kind: str
    limit: int | None
    media: bool
    delete: bool

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "kind": self.kind, "limit": self.limit, "media": self.media,
                "delete": self.delete}


def choice(channel: Channel) -> ChannelChoice:
    caps = capabilities(channel.kind)
    return ChannelChoice(channel.key, channel.name, channel.kind, length_limit(channel.kind),
                         Capability.MEDIA in caps, Capability.DELETE in caps)


def publishable(session: Session, who: Principal) -> list[ChannelChoice]:
    """The enabled channels whose connector publishes and on which this person may post."""
    rows = session.scalars(select(Channel).where(Channel.enabled.is_(True)).order_by(Channel.name, Channel.key))
    return [choice(c) for c in rows if Capability.PUBLISH in capabilities(c.kind) and may_post_on(who, c)]


def clean_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("a post needs some text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"a post has at most {MAX_TEXT} characters")
    return text


def target_channels(session: Session, who: Principal, keys: list[str]) -> list[Channel]:
    """The channels named, each one that publishes and that this person may post on (Forbidden otherwise)."""
    keys = list(dict.fromkeys(k.strip() for k in keys or [] if k and k.strip()))
    if not keys:
        raise InvalidInput("choose at least one channel to publish on")
    found = {c.key: c for c in session.scalars(select(Channel).where(Channel.key.in_(keys)))}
    missing = [k for k in keys if k not in found or not found[k].enabled]
    if missing:
        raise InvalidInput(f"no such channel: {', '.join(missing)}")
    channels = [found[k] for k in keys]
    for channel in channels:
        if Capability.PUBLISH not in capabilities(channel.kind):
            raise InvalidInput(f"{channel.name} ({channel.kind}) cannot publish posts, only reply")
        require_post_on(who, channel)
    return channels


def check_lengths(text: str, channels: list[Channel]) -> None:
    over = [(c, length_limit(c.kind)) for c in channels if length_limit(c.kind) and len(text) > length_limit(c.kind)]
    if over:
        parts = [f"{c.name} allows {limit}" for c, limit in over]
        raise InvalidInput(f"this post has {len(text)} characters; {'; '.join(parts)}")


def clean_media(media: list, channels: list[Channel]) -> list[dict]:
    """[{"url", "mime", "alt"}] from URLs or dicts; only http(s), only where every channel takes media."""
    out = []
    for item in media or []:
        item = {"url": item} if isinstance(item, str) else dict(item or {})
        url = str(item.get("url") or "").strip()
        if not url:
            continue
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidInput(f"a media URL must start with http:// or https://: {url[:200]!r}")
        # Said now rather than when the send fails: an address that is not public, or (when the organization
        # lists its media hosts) another host. Names are resolved only when fetched, on every hop.
        policy = egress.current()
        try:
            policy.check_url(url, policy.media_hosts)
        except (egress.Refused, ValueError) as exc:
            raise InvalidInput(f"this media URL cannot be used: {exc}") from None
        out.append({"url": url[:2000], "mime": str(item.get("mime") or "")[:100],
                    "alt": str(item.get("alt") or "")[:1000]})
    if len(out) > MAX_MEDIA:
        raise InvalidInput(f"at most {MAX_MEDIA} media per post")
    if out:
        without = [c.name for c in channels if Capability.MEDIA not in capabilities(c.kind)]
        if without:
            raise InvalidInput(f"{', '.join(without)} cannot attach media: remove the media or these channels")
    return out


def clean_schedule(at: datetime | None, now: datetime) -> datetime | None:
    """UTC, in the future (within a year); None (or a time within a minute of now) means publish at once."""
    if at is None:
        return None
    if at.tzinfo is None:
        raise InvalidInput("the schedule time needs a time zone (for example 2026-12-01T09:00:00+01:00)")
    if at <= now + SCHEDULE_SLACK:
        if at < now - SCHEDULE_SLACK:
            raise InvalidInput("the schedule time has passed: choose a later time, or publish now")
        return None
    if at > now + MAX_AHEAD:
        raise InvalidInput("a post can be scheduled at most a year ahead")
    return at.astimezone(now.tzinfo)
