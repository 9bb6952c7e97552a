"""What each built-in connector hands the shared contract suite: valid settings, recorded payloads,
how to sign them, and where its HTTP goes so the suite can answer with the platform's errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from onevoice.connectors.base import Media

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOW = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC)
# A 1x1 PNG, served at IMAGE.url by the media tests.
IMAGE_BYTES = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
IMAGE = Media("https://media.acme.example/spring/kettle-base.png", "image/png", "The kettle's base, scorched")


def fixture_bytes(platform: str, name: str) -> bytes:
    return (FIXTURES / platform / name).read_bytes()


def fixture_json(platform: str, name: str) -> Any:
    return json.loads(fixture_bytes(platform, name))


@dataclass
class Expect:
    """One message a fixture must yield: id, kind, and the edit/delete markers."""

    external_id: str
    kind: str
    in_reply_to: str | None = None
    edited: bool = False
    deleted: bool = False
    attachments: tuple[str, ...] = ()  # the types of the attachments, in order

    def key(self) -> tuple:
        return (self.external_id, self.kind, self.in_reply_to, self.edited, self.deleted, self.attachments)


def key_of(msg: Any) -> tuple:
    """The same tuple as Expect.key() for a mapped message."""
    types = tuple(a["type"] for a in msg.get("attachments", []))
    return (msg["external_id"], msg["kind"], msg["in_reply_to"], msg.get("edited", False), msg.get("deleted", False),
            types)


@dataclass
class ErrorCase:
    status: int
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None  # what the connector must report, when it is RateLimited


@dataclass
class DeleteCase:
    """Where delete() goes, and the platform's documented answers for done and for already gone."""

    route: tuple[str, str]  # (method, url regex)
    target: str  # the external id deleted
    ok: ErrorCase
    gone: ErrorCase


@dataclass
class MediaCase:
    """publish() with one image (Media IMAGE): register the platform's answers; check what was sent."""

    setup: Callable[[Any], None]
    check: Callable[[list[Any], Any], None]  # (calls made, OutboundResult)
    fetched_by_platform: bool = False  # the platform downloads the URL itself (Meta)


@dataclass
class Case:
    kind: str
    platform: str  # fixtures folder
    config: dict[str, Any]
    bad_config: dict[str, Any]
    # Webhook side: fixture name -> the messages it must yield.
    webhooks: dict[str, list[Expect]] = field(default_factory=dict)
    sign: Callable[[bytes, datetime], dict[str, str]] | None = None
    wrong_secret_config: dict[str, Any] | None = None
    replay_window: float | None = None  # seconds, when the scheme signs a timestamp
    malformed: list[bytes] = field(default_factory=list)
    setup_webhook: Callable[[Any], None] | None = None  # answers for look-ups parsing needs
    # Polling side: register recorded responses; what poll(None) must yield.
    stack: str = "httpx"  # "httpx" (respx) or "requests" (responses)
    setup_poll: Callable[[Any], None] | None = None
    poll_expect: list[Expect] = field(default_factory=list)
    poll_fixtures: list[str] = field(default_factory=list)  # files whose sub-objects raw may be
    # For protocols that are not HTTP: start real local servers, yield config overrides pointing at them.
    servers: Callable[[], Any] | None = None
    raw_matches: Callable[[dict], bool] | None = None  # when raw is not a JSON sub-object (e.g. mail)
    # Error mapping: register a failing answer at `route` and make a call that goes there.
    route: tuple[str, str] | None = None  # (method, url regex)
    prepare: Callable[[Any], None] | None = None  # e.g. a login that must succeed first
    call: Callable[[Any], Any] | None = None
    rate_limited: ErrorCase | None = None
    expired: ErrorCase | None = None
    server_error: ErrorCase = field(default_factory=lambda: ErrorCase(503, {"error": "unavailable"}))
    # Declared DELETE / MEDIA capabilities are exercised with these (prepare runs first, e.g. a login).
    delete: DeleteCase | None = None
    media: MediaCase | None = None
