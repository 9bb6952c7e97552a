"""Fetching a post's media for platforms that want the bytes uploaded (Mastodon, Bluesky, X).

Media arrive as URLs (`base.Media`) that a poster typed, and the bytes end up public on the platform, so
the fetch goes through the outbound guard (`onevoice.egress`): public addresses only, checked on every
redirect hop, limited to the organization's media hosts when `ONEVOICE_MEDIA_HOSTS` names some, bounded in
size and time. A URL that cannot be fetched is the poster's mistake, not the platform's, so it fails the
send permanently with the reason, except a server error or a network failure, which a retry can cure.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from onevoice import egress
from onevoice.connectors.base import ConnectorError, Media

MAX_BYTES = 40_000_000  # above every platform's video limit we upload to; images are far smaller
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEADLINE = 120.0  # the whole download, however slowly the server drips it
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Fetched:
    data: bytes
    mime: str
    filename: str
    alt: str


def fetch(media: Media, max_bytes: int = MAX_BYTES, http: httpx.Client | None = None) -> Fetched:
    """The media's bytes and type (the declared mime wins over the server's Content-Type).

    `http` is for tests only: by default a guarded client (see the module's docstring)."""
    if not media.url.startswith(("https://", "http://")):
        raise ConnectorError(f"media URL must be http(s): {media.url[:100]!r}", permanent=True)
    own = http is None
    http = http or egress.client(hosts=egress.current().media_hosts, timeout=TIMEOUT, max_redirects=MAX_REDIRECTS,
                                 max_bytes=max_bytes, deadline=DEADLINE)
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
    except egress.Refused as exc:
        raise ConnectorError(f"media {media.url[:200]} refused: {exc}", permanent=True) from exc
    except egress.TooLarge as exc:
        raise ConnectorError(f"media {media.url[:200]} is larger than {max_bytes} bytes", permanent=True) from exc
    except httpx.TooManyRedirects as exc:
        raise ConnectorError(f"media {media.url[:200]} redirects too often: {exc}", permanent=True) from exc
    except httpx.InvalidURL as exc:
        raise ConnectorError(f"media URL {media.url[:200]!r} is not valid: {exc}", permanent=True) from exc
    except httpx.HTTPError as exc:
        raise ConnectorError(f"media {media.url[:200]} could not be fetched: {exc}", permanent=False) from exc
    finally:
        if own:
            http.close()
    mime = media.mime or served or "application/octet-stream"
    name = media.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "media"
    return Fetched(b"".join(chunks), mime, name, media.alt)
