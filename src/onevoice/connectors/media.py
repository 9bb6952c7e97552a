"""Fetching a post's media for platforms that want the bytes uploaded (Mastodon, Bluesky, X).

Media arrive as URLs (`base.Media`): the organization's own asset server or storage. A URL that cannot
be fetched is the poster's mistake, not the platform's, so it fails the send permanently with the reason,
except a server error or a network failure, which a retry can cure.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from onevoice.connectors.base import ConnectorError, Media

MAX_BYTES = 40_000_000  # above every platform's video limit we upload to; images are far smaller


@dataclass(frozen=True)
class Fetched:
    data: bytes
    mime: str
    filename: str
    alt: str


def fetch(http: httpx.Client, media: Media, max_bytes: int = MAX_BYTES) -> Fetched:
    """The media's bytes and type (the declared mime wins over the server's Content-Type)."""
    if not media.url.startswith(("https://", "http://")):
        raise ConnectorError(f"media URL must be http(s): {media.url[:100]!r}", permanent=True)
    try:
        with http.stream("GET", media.url, follow_redirects=True) as resp:
            if resp.status_code >= 400:
                raise ConnectorError(
                    f"media {media.url[:200]} answered HTTP {resp.status_code}",
                    permanent=resp.status_code < 500,
                    platform_code=resp.status_code,
                )
            chunks, size = [], 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ConnectorError(f"media {media.url[:200]} is larger than {max_bytes} bytes", permanent=True)
                chunks.append(chunk)
            served = resp.headers.get("content-type", "").split(";")[0].strip()
    except httpx.HTTPError as exc:
        raise ConnectorError(f"media {media.url[:200]} could not be fetched: {exc}", permanent=False) from exc
    mime = media.mime or served or "application/octet-stream"
    name = media.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "media"
    return Fetched(b"".join(chunks), mime, name, media.alt)
