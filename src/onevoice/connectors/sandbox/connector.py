"""Sandbox: a simulated channel for the demo and tests, with no network and no credentials.

Polling wraps the demo traffic generator (`onevoice.connectors.sandbox.traffic.SandboxTraffic`); replies and posts
succeed locally and are recorded, so the whole flow can be shown and tested end to end offline.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, SecretStr

from onevoice.connectors.base import (
    BaseConnector,
    Capability,
    InboundMessage,
    Media,
    OutboundResult,
    PayloadError,
    WebhookRequest,
    attachment,
    health,
    inbound,
)
from onevoice.connectors.sandbox.traffic import SandboxTraffic
from onevoice.connectors.signing import hmac_sha256_hex, require_signature
from onevoice.connectors.webhook.mapping import messages_from_body


class SandboxSettings(BaseModel):
    seed: int = Field(7, description="seed of the simulated traffic; same seed, same messages")
    batch_size: int = Field(5, ge=0, le=500, description="messages produced per poll")
    channel_key: str = Field("sandbox", description="which simulated account the traffic is addressed to")
    secret: SecretStr | None = Field(None, description="optional: require X-OneVoice-Signature on webhooks")


# Everything any sandbox channel has sent in this process, by idempotency key: a retried send returns
# the first result instead of "posting" twice, which is the guarantee real connectors must give.
SENT: dict[str, dict[str, Any]] = {}
_SENT_LOCK = threading.Lock()

# Traffic generators by (seed, channel): (generator, batches produced). Replaying from the seed keeps
# poll() resumable from a stored cursor; the cache saves replaying on every poll.
_GENERATORS: dict[tuple[int, str], tuple[Any, int]] = {}


def _traffic(seed: int) -> Any:
    return SandboxTraffic(seed)


class SandboxConnector(BaseConnector):
    kind = "sandbox"
    settings_model = SandboxSettings
    capabilities = frozenset(
        {
            Capability.WEBHOOK,
            Capability.POLLING,
            Capability.REPLY,
            Capability.DIRECT_MESSAGE,
            Capability.PUBLISH,
            Capability.DELETE,
            Capability.MEDIA,
        }
    )
    settings: SandboxSettings

    def verify_webhook(self, req: WebhookRequest) -> None:
        if self.settings.secret is None:
            return
        expected = hmac_sha256_hex(self.settings.secret.get_secret_value(), req.body)
        require_signature(expected, req.headers.get("X-OneVoice-Signature"))

    def parse_webhook(self, req: WebhookRequest) -> list[InboundMessage]:
        return messages_from_body(req.json())

    def poll(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]:
        try:
            position = int(cursor) if cursor else 0
        except ValueError as exc:
            raise PayloadError(f"sandbox cursor must be a batch count, got {cursor!r}") from exc
        key = (self.settings.seed, self.settings.channel_key)
        with _SENT_LOCK:
            gen, produced = _GENERATORS.get(key, (None, 0))
            if gen is None or produced > position:
                gen, produced = _traffic(self.settings.seed), 0
            while produced < position:  # catch up deterministically after a restart
                gen.next_batch(self.settings.channel_key, self.settings.batch_size, now=self.now())
                produced += 1
            batch = gen.next_batch(self.settings.channel_key, self.settings.batch_size, now=self.now())
            _GENERATORS[key] = (gen, produced + 1)
        return [self._normalise(item) for item in batch], str(position + 1)

    def _normalise(self, item: dict) -> InboundMessage:
        # The generator already speaks the intake shape; passing it through inbound() keeps the
        # sandbox honest about the contract (aware timestamps, string ids, raw kept).
        author = item.get("author") or {}
        return inbound(
            external_id=item["external_id"],
            kind=item.get("kind", "post"),
            author=author,
            text=item.get("text"),
            created_at=item["created_at"],
            in_reply_to=item.get("in_reply_to"),
            url=item.get("url"),
            raw=item.get("raw") or dict(item),
            edited=bool(item.get("edited")),
            deleted=bool(item.get("deleted")),
            attachments=[attachment(a.get("type", ""), a.get("url"), a.get("alt"))
                         for a in item.get("attachments") or () if isinstance(a, dict)],
        )

    def reply(self, parent: dict, text: str, idempotency_key: str) -> OutboundResult:
        return self._send(
            {
                "type": "reply",
                "in_reply_to": parent.get("external_id"),
                "kind": parent.get("kind"),
                "text": text,
            },
            idempotency_key,
        )

    def publish(self, text: str, idempotency_key: str, media: Sequence[Media] = ()) -> OutboundResult:
        return self._send({"type": "post", "text": text, "media": [m.url for m in media]}, idempotency_key)

    def delete(self, external_id: str) -> None:
        with _SENT_LOCK:
            for record in SENT.values():
                if record["external_id"] == external_id and record["channel_key"] == self.settings.channel_key:
                    record["deleted"] = True

    def _send(self, record: dict, idempotency_key: str) -> OutboundResult:
        digest = hashlib.sha256(f"{self.settings.channel_key}:{idempotency_key}".encode()).hexdigest()[:16]
        with _SENT_LOCK:
            if idempotency_key not in SENT:
                SENT[idempotency_key] = {
                    **record,
                    "external_id": f"sandbox-out-{digest}",
                    "channel_key": self.settings.channel_key,
                    "sent_at": self.now().isoformat(),
                }
            sent = SENT[idempotency_key]
        return OutboundResult(sent["external_id"], f"https://sandbox.onevoice.invalid/{sent['external_id']}")

    @property
    def sent(self) -> list[dict[str, Any]]:
        """What this sandbox channel has sent, oldest first."""
        return [r for r in SENT.values() if r["channel_key"] == self.settings.channel_key]

    def check(self) -> dict:
        return health("connected", "simulated channel: no credentials")
