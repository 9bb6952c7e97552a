"""Bluesky over the AT Protocol: mentions, replies and quotes from notifications; threaded replies
with root/parent strong refs; posts. Authenticates with an app password."""

from __future__ import annotations

from collections.abc import Sequence

from atproto import models
from atproto_client import exceptions as atx
from pydantic import BaseModel, Field, SecretStr

from onevoice.connectors.base import (
    BaseConnector,
    Capability,
    ConnectorError,
    InboundMessage,
    Media,
    OutboundResult,
    PayloadError,
    check_by_calling,
)
from onevoice.connectors.bluesky.client import BlueskyClient
from onevoice.connectors.bluesky.mapping import notification_to_message, post_url, reply_refs
from onevoice.connectors.media import fetch

PAGE = 50
MAX_PAGES = 10  # catch-up bound per poll; the cursor makes the next poll continue
MAX_IMAGES = 4  # per post (app.bsky.embed.images)
MAX_IMAGE_BYTES = 1_000_000  # the blob limit for images in app.bsky.embed.images


class BlueskySettings(BaseModel):
    handle: str = Field(description="the account's handle, e.g. acmehome.bsky.social")
    app_password: SecretStr = Field(description="an app password (Settings > Privacy and security)")
    service: str = Field("https://bsky.social", description="the account's PDS or entryway")


class BlueskyConnector(BaseConnector):
    kind = "bluesky"
    settings_model = BlueskySettings
    capabilities = frozenset(
        {Capability.POLLING, Capability.REPLY, Capability.PUBLISH, Capability.DELETE, Capability.MEDIA}
    )
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

    def publish(self, text: str, idempotency_key: str, media: Sequence[Media] = ()) -> OutboundResult:
        """A post; images are fetched, uploaded as blobs (uploadBlob) and embedded with their alt text.

        Video is refused: Bluesky takes it through its separate video service (upload, then wait for
        transcoding), a flow this connector does not implement.
        """
        if len(media) > MAX_IMAGES:
            raise ConnectorError(f"Bluesky takes at most {MAX_IMAGES} images per post", permanent=True)
        images = [fetch(m, MAX_IMAGE_BYTES) for m in media]
        for item in images:
            if not item.mime.startswith("image/"):
                raise ConnectorError(f"Bluesky posts here take images, not {item.mime}", permanent=True)
        return self._post(text, None, images)

    def delete(self, external_id: str) -> None:
        """Delete one of our posts (com.atproto.repo.deleteRecord); deleting a missing record succeeds."""
        client = self._client()
        client.login()
        if not external_id.startswith(f"at://{client.did}/app.bsky.feed.post/"):
            raise ConnectorError(f"not a post of this account: {external_id[:200]}", permanent=True)
        try:
            client.call(lambda: client.sdk.delete_post(external_id))
        except ConnectorError as exc:
            # Some PDS versions answer a missing record with 400 "Could not locate record".
            if not isinstance(exc.__cause__, atx.BadRequestError) or "locate record" not in str(exc):
                raise

    def _post(self, text: str, reply_to: models.AppBskyFeedPost.ReplyRef | None, images: Sequence = ()
              ) -> OutboundResult:
        # No idempotency key exists in createRecord; the outbox's send-once guard covers retries.
        client = self._client()
        if images:
            data = client.call(lambda: client.sdk.send_images(
                text=text, images=[i.data for i in images], image_alts=[i.alt for i in images], reply_to=reply_to,
                profile_identify=client.did))
        else:
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
