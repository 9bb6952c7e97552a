"""The connector contract: what every channel plugin declares, receives and sends.

A connector translates one platform's payloads into OneVoice's intake message shape and sends replies
and posts back. It is pure I/O plus mapping: it never touches the database or the web layer, so the
pipeline, the worker and the CLI can all drive it the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal, NotRequired, Protocol, runtime_checkable

import httpx
import orjson
from pydantic import BaseModel
from typing_extensions import TypedDict  # pydantic can only validate this one on 3.11

from onevoice import egress


class Capability(StrEnum):
    WEBHOOK = "webhook"
    POLLING = "polling"
    REPLY = "reply"
    DIRECT_MESSAGE = "direct_message"
    PUBLISH = "publish"
    DELETE = "delete"
    MEDIA = "media"


# --- errors -------------------------------------------------------------------------------------------


class ConnectorError(Exception):
    """A platform call or payload failed.

    `permanent` tells the outbox and the poller whether retrying can help; `retry_after` (seconds) is the
    platform's own hint; `platform_code` is the platform's error code, kept for the failure record.
    """

    permanent: bool = False

    def __init__(
        self,
        message: str,
        *,
        permanent: bool | None = None,
        retry_after: float | None = None,
        platform_code: str | int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if permanent is not None:
            self.permanent = permanent
        self.retry_after = retry_after
        self.platform_code = platform_code

    def __str__(self) -> str:
        code = f" [{self.platform_code}]" if self.platform_code is not None else ""
        return f"{self.message}{code}"


class AuthExpired(ConnectorError):
    """The token is expired or revoked: retrying won't help, a person must reconnect the channel."""

    permanent = True


class RateLimited(ConnectorError):
    """The platform asked us to slow down; retry after `retry_after` seconds."""

    permanent = False


class SignatureError(ConnectorError):
    """A webhook whose signature is missing, wrong, or outside the replay window."""

    permanent = True


class PayloadError(ConnectorError):
    """A payload we cannot understand. The caller stores it as failed with this message, never drops it."""

    permanent = True


class SettingsError(ConnectorError, ValueError):
    """Unknown connector kind, or a channel config that does not validate."""

    permanent = True


# --- messages -----------------------------------------------------------------------------------------

MessageKind = Literal["post", "comment", "mention", "direct", "review"]
MESSAGE_KINDS: tuple[str, ...] = ("post", "comment", "mention", "direct", "review")


class Author(TypedDict):
    external_id: str
    handle: str | None
    name: str | None
    followers: int | None


AttachmentType = Literal["image", "video", "audio", "link", "file"]
ATTACHMENT_TYPES: tuple[str, ...] = ("image", "video", "audio", "link", "file")


class Attachment(TypedDict):
    """Something the platform attached to a message, kept as a link: OneVoice never fetches or embeds it."""

    type: AttachmentType
    url: str
    alt: str | None


class InboundMessage(TypedDict):
    """Exactly the intake message dict; `channel` is left empty for the caller to fill."""

    channel: str | None
    external_id: str
    kind: MessageKind
    author: Author
    text: str
    created_at: str
    in_reply_to: str | None
    url: str | None
    raw: dict[str, Any]
    edited: NotRequired[bool]
    deleted: NotRequired[bool]
    attachments: NotRequired[list[Attachment]]


def attachment(type_: str, url: Any, alt: Any = None) -> Attachment | None:
    """One attachment, or None when the platform gave no usable web link (only http(s) is kept)."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2000:
        return None
    kind = type_ if type_ in ATTACHMENT_TYPES else "file"
    return {"type": kind, "url": url, "alt": alt[:1000] if isinstance(alt, str) and alt else None}  # type: ignore[typeddict-item]


def iso(value: datetime | str | int | float) -> str:
    """A timezone-aware ISO 8601 string from a datetime, an ISO string, or unix seconds."""
    if isinstance(value, int | float):
        dt = datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise PayloadError(f"unreadable timestamp {value!r}") from exc
    else:
        dt = value
    if dt.tzinfo is None:
        # Platforms that omit the zone mean UTC; a naive datetime would be ambiguous downstream.
        dt = dt.replace(tzinfo=UTC)
    return dt.isoformat()


def inbound(
    *,
    external_id: str | int,
    kind: str,
    author: Mapping[str, Any],
    text: str | None,
    created_at: datetime | str | int | float,
    raw: dict[str, Any],
    in_reply_to: str | int | None = None,
    url: str | None = None,
    edited: bool = False,
    deleted: bool = False,
    attachments: Sequence[Attachment | None] = (),
) -> InboundMessage:
    """Build one InboundMessage, normalising ids to strings and the timestamp to aware ISO 8601."""
    if kind not in MESSAGE_KINDS:
        raise PayloadError(f"unknown message kind {kind!r}")
    if external_id in (None, ""):
        raise PayloadError("message without an id")
    followers = author.get("followers")
    msg: InboundMessage = {
        "channel": None,
        "external_id": str(external_id),
        "kind": kind,  # type: ignore[typeddict-item]
        "author": {
            "external_id": str(author.get("external_id") or ""),
            "handle": author.get("handle"),
            "name": author.get("name"),
            "followers": int(followers) if followers is not None else None,
        },
        "text": text or "",
        "created_at": iso(created_at),
        "in_reply_to": str(in_reply_to) if in_reply_to not in (None, "") else None,
        "url": url,
        "raw": raw,
    }
    if edited:
        msg["edited"] = True
    if deleted:
        msg["deleted"] = True
    kept = [a for a in attachments if a is not None]
    if kept:
        msg["attachments"] = kept
    return msg


@dataclass(frozen=True)
class Media:
    """An image or video to attach to a post: a URL the platform (or the connector) can fetch."""

    url: str
    mime: str = ""
    alt: str = ""


@dataclass(frozen=True)
class OutboundResult:
    """What the platform answered when we sent: its id for the message, and a link when it has one."""

    external_id: str
    url: str | None = None


# --- webhooks -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookRequest:
    """An inbound HTTP request, detached from the web framework so connectors stay framework-free."""

    method: str
    headers: httpx.Headers
    query: Mapping[str, str]
    body: bytes
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def build(
        cls,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        body: bytes | str = b"",
        received_at: datetime | None = None,
    ) -> WebhookRequest:
        return cls(
            method=method.upper(),
            # httpx.Headers is case-insensitive, like HTTP itself.
            headers=httpx.Headers(dict(headers or {})),
            query=dict(query or {}),
            body=body.encode() if isinstance(body, str) else body,
            received_at=received_at or datetime.now(UTC),
        )

    def json(self) -> Any:
        return loads_json(self.body)


# 19 digits and more may be an integer beyond 64 bits, which orjson reads as a float (losing digits).
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def loads_json(body: bytes) -> Any:
    """A webhook body as JSON, or PayloadError. orjson (several times faster) unless the body may hold an
    integer it would round, or it refuses something the standard library reads (NaN, a lone surrogate)."""
    if not _LONG_NUMBER.search(body):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from exc


@dataclass(frozen=True)
class WebhookResponse:
    status: int = 200
    body: str = ""
    content_type: str = "text/plain"


# --- the connector ------------------------------------------------------------------------------------

Now = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@runtime_checkable
class Connector(Protocol):
    """What the pipeline, the worker and the CLI call. See BaseConnector for the shared behaviour."""

    kind: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]
    capabilities: ClassVar[frozenset[Capability]]

    def verify_webhook(self, req: WebhookRequest) -> None: ...
    def handshake(self, req: WebhookRequest) -> WebhookResponse | None: ...
    def parse_webhook(self, req: WebhookRequest) -> list[InboundMessage]: ...
    def poll(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]: ...
    def reply(self, parent: dict, text: str, idempotency_key: str) -> OutboundResult: ...
    def publish(self, text: str, idempotency_key: str, media: Sequence[Media] = ()) -> OutboundResult: ...
    def delete(self, external_id: str) -> None: ...
    def check(self) -> dict: ...


class BaseConnector:
    """Defaults for every connector: unsupported operations raise NotImplementedError.

    Subclasses set `kind`, `settings_model` and `capabilities`, and override only what they support;
    the contract tests check that the declared capabilities match the overridden methods.
    """

    kind: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # Settings the connector changed while working (a rotated OAuth token): whoever built it stores them with the
    # channel (`channels.service.keep_renewed`), or the next call would use a token the platform has retired.
    renewed: dict | None = None

    def __init__(self, settings: BaseModel, http: httpx.Client | None = None, now: Now | None = None):
        if not isinstance(settings, self.settings_model):
            settings = self.settings_model.model_validate(settings)
        self.settings = settings
        self._http = http
        self.now: Now = now or utc_now

    @property
    def http(self) -> httpx.Client:
        # Built lazily so constructing a connector (e.g. to validate a config) opens no connection. Through
        # the outbound guard: a channel's server URL is typed by a person, like any other URL we fetch.
        if self._http is None:
            self._http = egress.client(timeout=httpx.Timeout(20.0, connect=10.0))
        return self._http

    def verify_webhook(self, req: WebhookRequest) -> None:
        raise NotImplementedError(f"{self.kind} does not receive webhooks")

    def handshake(self, req: WebhookRequest) -> WebhookResponse | None:
        return None

    def parse_webhook(self, req: WebhookRequest) -> list[InboundMessage]:
        raise NotImplementedError(f"{self.kind} does not receive webhooks")

    def poll(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]:
        raise NotImplementedError(f"{self.kind} cannot be polled")

    def reply(self, parent: dict, text: str, idempotency_key: str) -> OutboundResult:
        raise NotImplementedError(f"{self.kind} cannot reply")

    def publish(self, text: str, idempotency_key: str, media: Sequence[Media] = ()) -> OutboundResult:
        """Post `text` on the channel's own account; `media` only where Capability.MEDIA is declared."""
        raise NotImplementedError(f"{self.kind} cannot publish")

    def delete(self, external_id: str) -> None:
        """Remove something this channel sent (a reply or a post). Deleting what is already gone succeeds."""
        raise NotImplementedError(f"{self.kind} cannot delete")

    def check(self) -> dict:
        return health("connected", "no credentials to check")


HealthStatus = Literal["connected", "failing", "expiring", "revoked"]


def health(status: HealthStatus, detail: str, expires_at: datetime | str | None = None) -> dict:
    """The dict `check()` returns; the channel's health column shows `status`."""
    return {
        "status": status,
        "detail": detail,
        "expires_at": iso(expires_at) if expires_at is not None else None,
    }


def check_by_calling(probe: Callable[[], str]) -> dict:
    """Run a cheap authenticated call and turn its outcome into a health dict."""
    try:
        detail = probe()
    except AuthExpired as exc:
        return health("revoked", str(exc))
    except ConnectorError as exc:
        return health("failing", str(exc))
    return health("connected", detail)
