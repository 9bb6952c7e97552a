"""Mastodon (and compatible servers): mentions and direct messages by polling notifications;
replies keep the conversation's visibility; posts to the account's timeline."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from pydantic import BaseModel, Field, HttpUrl, SecretStr

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
from onevoice.connectors.mastodon.client import MastodonClient, NotFoundOnServer
from onevoice.connectors.mastodon.mapping import TYPES, id_key, notification_to_message
from onevoice.connectors.media import fetch

PAGE = 40  # Mastodon's maximum page size for notifications
MAX_MEDIA = 4  # Mastodon's default limit of attachments per status


class MastodonSettings(BaseModel):
    api_base_url: HttpUrl = Field(description="the server, e.g. https://mastodon.social")
    access_token: SecretStr = Field(description="token of an application with read and write scopes")


class MastodonConnector(BaseConnector):
    kind = "mastodon"
    settings_model = MastodonSettings
    capabilities = frozenset(
        {
            Capability.POLLING,
            Capability.REPLY,
            Capability.DIRECT_MESSAGE,
            Capability.PUBLISH,
            Capability.DELETE,
            Capability.MEDIA,
        }
    )
    settings: MastodonSettings

    def _client(self) -> MastodonClient:
        return MastodonClient(
            str(self.settings.api_base_url).rstrip("/"), self.settings.access_token.get_secret_value(), self.now
        )

    def poll(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]:
        """One page of notifications newer than `cursor`.

        `min_id` pages forward from the cursor, so after downtime nothing between the cursor and the
        newest page is skipped (since_id would jump to the newest page); call again until it is empty.
        """
        client = self._client()
        with client.errors():
            client.api.notifications(types=list(TYPES), min_id=cursor, limit=PAGE)
        items = client.last_json()
        if not isinstance(items, list):
            raise PayloadError("Mastodon notifications response is not a list")
        if not all(isinstance(n, dict) and n.get("id") for n in items):
            raise PayloadError("Mastodon notification without an id")
        # Oldest first, so a caller processing in order sees a post before its edit.
        items = sorted(items, key=lambda n: id_key(str(n["id"])))
        messages = [m for m in (notification_to_message(n) for n in items) if m is not None]
        return messages, str(items[-1]["id"]) if items else cursor

    def reply(self, parent: dict, text: str, idempotency_key: str) -> OutboundResult:
        raw = parent.get("raw") or {}
        status = raw.get("status") or {}
        if not status.get("id"):
            raise ConnectorError("parent is not a Mastodon status notification", permanent=True)
        acct = (status.get("account") or {}).get("acct")
        # Without the @mention the author is not notified of our answer.
        if acct and f"@{acct}" not in text:
            text = f"@{acct} {text}"
        # A direct message stays direct; public mentions get an unlisted-or-wider answer like the parent.
        visibility = status.get("visibility") or "public"
        return self._post(text, idempotency_key, in_reply_to_id=status["id"], visibility=visibility)

    def publish(self, text: str, idempotency_key: str, media: Sequence[Media] = ()) -> OutboundResult:
        """A status; media are fetched from their URLs and uploaded first (needs the write:media scope)."""
        if len(media) > MAX_MEDIA:
            raise ConnectorError(f"Mastodon takes at most {MAX_MEDIA} attachments per post", permanent=True)
        ids = [self._upload(m) for m in media]
        return self._post(text, idempotency_key, **({"media_ids": ids} if ids else {}))

    def _upload(self, media: Media) -> str:
        item = fetch(media)
        client = self._client()
        with client.errors():
            client.api.media_post(item.data, mime_type=item.mime, description=item.alt or None, file_name=item.filename)
        data = client.last_json()
        if not isinstance(data, dict) or not data.get("id"):
            raise ConnectorError("Mastodon answered the upload without a media id", permanent=False)
        if data.get("url") is None:
            # 202: still processing (video). Attaching it now fails, so the outbox retries the post later.
            raise ConnectorError("Mastodon is still processing the uploaded media", permanent=False)
        return str(data["id"])

    def delete(self, external_id: str) -> None:
        """Delete a status we posted; one already gone (404) is the outcome wanted."""
        client = self._client()
        with contextlib.suppress(NotFoundOnServer), client.errors():
            client.api.status_delete(external_id)

    def _post(self, text: str, idempotency_key: str, **kwargs: object) -> OutboundResult:
        client = self._client()
        with client.errors():
            # Mastodon keeps the Idempotency-Key for an hour: a retried send returns the same status.
            client.api.status_post(text, idempotency_key=idempotency_key, **kwargs)
        data = client.last_json()
        if not isinstance(data, dict) or "id" not in data:
            raise ConnectorError("Mastodon answered without a status id", permanent=False)
        return OutboundResult(str(data["id"]), data.get("url") or data.get("uri"))

    def check(self) -> dict:
        def probe() -> str:
            client = self._client()
            with client.errors():
                client.api.account_verify_credentials()
            return f"connected as @{client.last_json().get('acct')}"

        return check_by_calling(probe)
