"""Generic webhook: any system posts messages to /webhooks/{key}; replies go to a configured URL.

Inbound requests carry `X-OneVoice-Timestamp` (unix seconds) and `X-OneVoice-Signature:
sha256=<hex>` where the HMAC-SHA256 key is the channel secret and the message is
`{timestamp}.{body}`. Signing the timestamp with the body is what makes the replay window meaningful.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
from pydantic import BaseModel, Field, HttpUrl, SecretStr

from onevoice import egress
from onevoice.connectors.base import (
    BaseConnector,
    Capability,
    ConnectorError,
    InboundMessage,
    Media,
    OutboundResult,
    WebhookRequest,
    health,
)
from onevoice.connectors.http_errors import error_for_status
from onevoice.connectors.signing import hmac_sha256_hex, require_fresh, require_signature
from onevoice.connectors.webhook.mapping import messages_from_body

TIMESTAMP_HEADER = "X-OneVoice-Timestamp"
SIGNATURE_HEADER = "X-OneVoice-Signature"


class WebhookSettings(BaseModel):
    secret: SecretStr = Field(min_length=16, description="shared HMAC-SHA256 secret (16+ characters)")
    tolerance_seconds: int = Field(300, ge=1, le=3600, description="replay window, seconds")
    outbound_url: HttpUrl | None = Field(None, description="where replies and posts are POSTed")


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header value for a body; used for outbound deliveries and by senders' tests."""
    return "sha256=" + hmac_sha256_hex(secret, f"{timestamp}.".encode() + body)


class WebhookConnector(BaseConnector):
    kind = "webhook"
    settings_model = WebhookSettings
    capabilities = frozenset(
        {Capability.WEBHOOK, Capability.REPLY, Capability.PUBLISH, Capability.DELETE, Capability.MEDIA}
    )
    settings: WebhookSettings

    def verify_webhook(self, req: WebhookRequest) -> None:
        ts = req.headers.get(TIMESTAMP_HEADER)
        require_fresh(ts, req.received_at, self.settings.tolerance_seconds)
        expected = hmac_sha256_hex(self.settings.secret.get_secret_value(), f"{ts}.".encode() + req.body)
        require_signature(expected, req.headers.get(SIGNATURE_HEADER))

    def parse_webhook(self, req: WebhookRequest) -> list[InboundMessage]:
        return messages_from_body(req.json())

    def reply(self, parent: dict, text: str, idempotency_key: str) -> OutboundResult:
        return self._deliver(
            {
                "type": "reply",
                "in_reply_to": parent.get("external_id"),
                "to": (parent.get("author") or {}).get("external_id"),
                "text": text,
            },
            idempotency_key,
        )

    def publish(self, text: str, idempotency_key: str, media: Sequence[Media] = ()) -> OutboundResult:
        """A post event; media go as URLs for the receiver to fetch."""
        payload: dict = {"type": "post", "text": text}
        if media:
            payload["media"] = [{"url": m.url, "mime": m.mime or None, "alt": m.alt or None} for m in media]
        return self._deliver(payload, idempotency_key)

    def delete(self, external_id: str) -> None:
        """A delete event for something we sent. A receiver answering 404 or 410 no longer has it: done."""
        try:
            # One key per target: a retried delete is the same event to the receiver.
            self._deliver({"type": "delete", "external_id": external_id}, f"delete:{external_id}")
        except ConnectorError as exc:
            if exc.platform_code not in (404, 410):
                raise

    def _deliver(self, payload: dict, idempotency_key: str) -> OutboundResult:
        if self.settings.outbound_url is None:
            raise ConnectorError("this webhook channel has no outbound_url configured", permanent=True)
        payload["idempotency_key"] = idempotency_key
        body = json.dumps(payload, separators=(",", ":")).encode()
        ts = str(int(self.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            # The receiver dedupes on this, so our outbox retry after a lost response never posts twice.
            "Idempotency-Key": idempotency_key,
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: sign(self.settings.secret.get_secret_value(), ts, body),
        }
        try:
            resp = self.http.post(str(self.settings.outbound_url), content=body, headers=headers)
        except egress.Refused as exc:
            raise ConnectorError(f"delivery refused: {exc}", permanent=True) from exc
        except httpx.HTTPError as exc:
            raise ConnectorError(f"delivery failed: {exc}", permanent=False) from exc
        if resp.status_code >= 400:
            raise error_for_status(
                resp.status_code,
                resp.headers,
                f"receiver answered {resp.status_code}: {resp.text[:200]}",
                self.now(),
            )
        data = {}
        if resp.content:
            try:
                data = resp.json()
            except ValueError:
                data = {}
        if not isinstance(data, dict):
            data = {}
        return OutboundResult(
            external_id=str(data.get("id") or data.get("external_id") or f"webhook:{idempotency_key}"),
            url=data.get("url"),
        )

    def check(self) -> dict:
        where = f"delivers to {self.settings.outbound_url}" if self.settings.outbound_url else "inbound only"
        return health("connected", f"signed with a shared secret; {where}")
