"""Bluesky over the AT Protocol: mentions, replies and quotes from notifications; threaded replies
with root/parent strong refs; posts. Authenticates with an app password."""

from __future__ import annotations

from atproto import models
from pydantic import BaseModel, Field, SecretStr

from onevoice.connectors.base import (
    BaseConnector,
    Capability,
    ConnectorError,
    InboundMessage,
    OutboundResult,
    PayloadError,
    check_by_calling,
)
from onevoice.connectors.bluesky.client import BlueskyClient
from onevoice.connectors.bluesky.mapping import notification_to_message, post_url, reply_refs

PAGE = 50
MAX_PAGES = 10  # catch-up bound per poll; the cursor makes the next poll continue


class BlueskySettings(BaseModel):
    handle: str = Field(description="the account's handle, e.g. acmehome.bsky.social")
    app_password: SecretStr = Field(description="an app password (Settings > Privacy and security)")
    service: str = Field("https://bsky.social", description="the account's PDS or entryway")


class BlueskyConnector(BaseConnector):
    kind = "bluesky"
    settings_model = BlueskySettings
    capabilities = frozenset({Capability.POLLING, Capability.REPLY, Capability.PUBLISH})
    settings: BlueskySettings

    def _client(self) -> BlueskyClient:
        s = self.settings
        return BlueskyClient(s.service, s.handle, s.app_password.get_secret_value(), self.http, self.now)

    def poll(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]:
        """Notifications indexed after `cursor` (an indexedAt timestamp), oldest first.

        listNotifications pages backwards in time, so we read pages until we reach the cursor.
        """
        client = self._client()
        fresh: list[dict] = []
        page_cursor: str | None = None
        for _ in range(MAX_PAGES):
            params = {"limit": PAGE, **({"cursor": page_cursor} if page_cursor else {})}
            data = client.call(lambda p=params: client.sdk.app.bsky.notification.list_notifications(params=p))
            if not isinstance(data, dict) or not isinstance(data.get("notifications"), list):
                raise PayloadError("Bluesky listNotifications response without notifications")
            items = data["notifications"]
            newer = [n for n in items if cursor is None or str(n.get("indexedAt", "")) > cursor]
            fresh.extend(newer)
            page_cursor = data.get("cursor")
            if cursor is None or len(newer) < len(items) or not page_cursor or not items:
                break
        fresh.sort(key=lambda n: str(n.get("indexedAt", "")))
        messages = [m for m in (notification_to_message(n) for n in fresh) if m is not None]
        newest = str(fresh[-1]["indexedAt"]) if fresh else cursor
        return messages, newest

    def reply(self, parent: dict, text: str, idempotency_key: str) -> OutboundResult:
        refs = reply_refs(parent.get("raw") or {})
        reply_to = models.AppBskyFeedPost.ReplyRef(
            root=models.ComAtprotoRepoStrongRef.Main(**refs["root"]),
            parent=models.ComAtprotoRepoStrongRef.Main(**refs["parent"]),
        )
        return self._post(text, reply_to)

    def publish(self, text: str, idempotency_key: str) -> OutboundResult:
        return self._post(text, None)

    def _post(self, text: str, reply_to: models.AppBskyFeedPost.ReplyRef | None) -> OutboundResult:
        # No idempotency key exists in createRecord; the outbox's send-once guard covers retries.
        client = self._client()
        data = client.call(lambda: client.sdk.send_post(text=text, reply_to=reply_to, profile_identify=client.did))
        if not isinstance(data, dict) or not data.get("uri"):
            raise ConnectorError("Bluesky answered without the new post's uri", permanent=False)
        return OutboundResult(data["uri"], post_url(data["uri"], self.settings.handle))

    def check(self) -> dict:
        def probe() -> str:
            client = self._client()
            data = client.call(lambda: client.sdk.com.atproto.server.get_session())
            return f"connected as @{(data or {}).get('handle', self.settings.handle)}"

        return check_by_calling(probe)
