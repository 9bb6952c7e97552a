"""Links: the networks' own share pages, the UTM parameters a share link adds, and the click limiter.

No platform credentials are needed to share: each network has a public share (or compose) page that takes the
text and the link; the employee posts from their own account. The short link `/s/<code>` is OneVoice's, so
clicks are counted per item, employee and network.

The limiter keeps, in this process's memory only, a keyed hash of each clicker's address for as long as it
needs it (RATE_WINDOW, DEDUPE_WINDOW): the database never sees an address. Several web nodes each limit on
their own, so a burst spread over nodes is capped per node (docs/advocacy.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import deque
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from onevoice.errors import InvalidInput

MAX_URL = 2000
_HOST = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


def clean_url(url: str, what: str = "the link") -> str:
    """An http(s) URL with a host, no credentials, no spaces or control characters, at most MAX_URL long."""
    url = (url or "").strip()
    if not url:
        raise InvalidInput(f"{what} is required")
    if len(url) > MAX_URL or any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise InvalidInput(f"{what} must be one URL without spaces, at most {MAX_URL} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{what} must start with https:// (or http://) and name a site")
    if parts.username or parts.password:
        raise InvalidInput(f"{what} must not carry a user name or password")
    return url


def clean_instance(instance: str) -> str:
    """A Mastodon server's host name as people type it ('mastodon.social', 'https://fosstodon.org/')."""
    raw = (instance or "").strip().lower()
    raw = re.sub(r"^https?://", "", raw).split("/", 1)[0].lstrip("@")
    if "@" in raw:  # "@me@mastodon.social": the server is after the last @
        raw = raw.rsplit("@", 1)[1]
    if not _HOST.match(raw):
        raise InvalidInput("name your Mastodon server as a host name, e.g. mastodon.social")
    return raw


def share_url(network: str, text: str, link: str, instance: str | None = None) -> str:
    """The network's own share page with the text and the link filled in."""
    both = f"{text}\n\n{link}".strip()
    if network == "x":
        return "https://x.com/intent/post?" + urlencode({"text": text, "url": link})
    if network == "linkedin":
        return "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": link})
    if network == "facebook":
        return "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": link})
    if network == "bluesky":
        return "https://bsky.app/intent/compose?" + urlencode({"text": both})
    if network == "mastodon":
        if not instance:
            raise InvalidInput("name your Mastodon server first")
        return f"https://{clean_instance(instance)}/share?text=" + quote(both, safe="")
    raise InvalidInput(f"unknown network {network!r}")


def with_utm(url: str, network: str, campaign: str, code: str) -> str:
    """The approved link with UTM parameters (source = network, medium = employee advocacy, campaign, content
    = the share's code). Parameters the approved link already carries are kept as approved."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    have = {k for k, _ in query}
    for key, value in (("utm_source", network), ("utm_medium", "employee_advocacy"),
                       ("utm_campaign", campaign), ("utm_content", code)):
        if key not in have and value:
            query.append((key, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def new_code() -> str:
    return secrets.token_urlsafe(6)  # 8 characters, 48 bits: not guessable in bulk


# Link previewers fetch a shared link as soon as it is posted; they are not people clicking.
_PREVIEWERS = re.compile(r"bot|crawl|spider|preview|facebookexternalhit|slurp|embedly|curl|wget|python-|"
                         r"httpclient|headless", re.I)


def is_previewer(user_agent: str | None) -> bool:
    return not user_agent or bool(_PREVIEWERS.search(user_agent))


class ClickLimiter:
    """Decide, per click, whether to redirect at all (a client over RATE_LIMIT requests a minute is refused)
    and whether to count it (once per client and link per DEDUPE_WINDOW; at most SHARE_BURST counted clicks per
    link a minute, however many clients)."""

    RATE_LIMIT = 30
    RATE_WINDOW = 60.0
    DEDUPE_WINDOW = 30 * 60.0
    SHARE_BURST = 60
    MAX_KEYS = 100_000

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._salt = secrets.token_bytes(16)  # per process: the hashes mean nothing elsewhere or later
        self._lock = threading.Lock()
        self._requests: dict[bytes, deque[float]] = {}
        self._seen: dict[tuple[bytes, str], float] = {}
        self._counted: dict[str, deque[float]] = {}
        self._pruned = clock()

    def _key(self, address: str | None) -> bytes:
        return hmac.new(self._salt, (address or "?").encode(), hashlib.sha256).digest()[:16]

    def check(self, address: str | None, code: str) -> tuple[bool, bool]:
        """(allowed, count_it)."""
        now = self._clock()
        key = self._key(address)
        with self._lock:
            self._prune(now)
            hits = self._requests.setdefault(key, deque())
            while hits and hits[0] <= now - self.RATE_WINDOW:
                hits.popleft()
            if len(hits) >= self.RATE_LIMIT:
                return False, False
            hits.append(now)
            seen_at = self._seen.get((key, code))
            if seen_at is not None and seen_at > now - self.DEDUPE_WINDOW:
                return True, False
            self._seen[(key, code)] = now
            counted = self._counted.setdefault(code, deque())
            while counted and counted[0] <= now - self.RATE_WINDOW:
                counted.popleft()
            if len(counted) >= self.SHARE_BURST:
                return True, False
            counted.append(now)
            return True, True

    def _prune(self, now: float) -> None:
        # Forget a client once its windows have passed (each minute), and never hold more than MAX_KEYS: a flood
        # of new addresses cannot grow memory without bound.
        if now - self._pruned > self.RATE_WINDOW or len(self._seen) > self.MAX_KEYS \
                or len(self._requests) > self.MAX_KEYS:
            self._pruned = now
            self._counted = {k: q for k, q in self._counted.items() if q and q[-1] > now - self.RATE_WINDOW}
            self._seen = {k: t for k, t in self._seen.items() if t > now - self.DEDUPE_WINDOW}
            self._requests = {k: q for k, q in self._requests.items() if q and q[-1] > now - self.RATE_WINDOW}
            if len(self._seen) > self.MAX_KEYS:
                self._seen.clear()
            if len(self._requests) > self.MAX_KEYS:
                self._requests.clear()
