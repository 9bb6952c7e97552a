"""X (Twitter) API v2 through tweepy: mentions polling with a since_id cursor, direct messages
(dm_events, when enabled), replies in the thread or the DM conversation, posts with images, deletion.

User-context OAuth 1.0a tokens are used throughout, so the same credentials read mentions and write.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import BaseModel, Field, SecretStr, model_validator

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
from onevoice.connectors.media import fetch
from onevoice.connectors.x import dms, mapping, oauth2
from onevoice.connectors.x.client import errors, make_bearer_client, make_client, upload_image

MAX_PAGES = 5  # per poll; the cursor carries on from there next time
MAX_IMAGES = 4  # per post
MAX_IMAGE_BYTES = 5_000_000  # X's limit for images


class XSettings(BaseModel):
    user_id: str = Field(pattern=r"^\d+$", description="the numeric id of the organization's X account")
    username: str | None = Field(None, description="the account's @name without @, for links")
    consumer_key: SecretStr | None = Field(None, description="API key of the X app (OAuth 1.0a)")
    consumer_secret: SecretStr | None = Field(None, description="API key secret of the X app (OAuth 1.0a)")
    access_token: SecretStr | None = Field(None, description="access token of the account (OAuth 1.0a, read and write)")
    access_token_secret: SecretStr | None = None
    # OAuth 2.0 with PKCE: what signing in from the Accounts page stores instead of the four keys above.
    client_id: str | None = Field(None, description="the app's OAuth 2.0 client id (set by signing in)")
    client_secret: SecretStr | None = Field(None, description="the app's OAuth 2.0 client secret, if confidential")
    oauth2_access_token: SecretStr | None = Field(None, description="OAuth 2.0 user access token (set by signing in)")
    oauth2_refresh_token: SecretStr | None = None
    oauth2_expires_at: int | None = Field(None, description="when the OAuth 2.0 access token expires (unix seconds)")
    direct_messages: bool = Field(
        False, description="also read direct messages (needs the app's 'Read and write and Direct message' permission)"
    )


    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> XSettings:
        keys = (self.consumer_key, self.consumer_secret, self.access_token, self.access_token_secret)
        if self.oauth2_access_token is None and not all(keys):
            raise ValueError("give consumer_key, consumer_secret, access_token and access_token_secret (OAuth 1.0a), "
                             "or sign in from the Accounts page (OAuth 2.0)")
        return self

    @property
    def oauth2(self) -> bool:
        return self.oauth2_access_token is not None and self.consumer_key is None


class XConnector(BaseConnector):
    kind = "x"
    settings_model = XSettings
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
    settings: XSettings

    def _keys(self) -> tuple[str, str, str, str]:
        s = self.settings
        if s.oauth2:
            # The v1.1 media upload is signed with OAuth 1.0a keys; a channel signed in with OAuth 2.0 has none.
            raise ConnectorError("images on X need the app's OAuth 1.0a keys (onevoice channel add); this channel "
                                 "was connected with OAuth 2.0", permanent=True)
        a, b, c, d = (v.get_secret_value() for v in (s.consumer_key, s.consumer_secret, s.access_token,
                                                      s.access_token_secret) if v is not None)
        return a, b, c, d

    def _client(self):
        s = self.settings
        if s.oauth2 and s.oauth2_access_token is not None:
            self._renew_if_due()
            token = self.settings.oauth2_access_token
            return oauth2.UserBearer(make_bearer_client(token.get_secret_value() if token else ""))
        return make_client(*self._keys())

    def _renew_if_due(self) -> None:
        s = self.settings
        if s.oauth2_refresh_token is None or not s.client_id or not oauth2.due(s.oauth2_expires_at, self.now()):
            return
        renewed = oauth2.renew(self.http, s.client_id, s.client_secret.get_secret_value() if s.client_secret else None,
                               s.oauth2_refresh_token.get_secret_value(), self.now())
        self.settings = XSettings.model_validate({**s.model_dump(), **renewed})
        self.renewed = renewed

    def poll(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]:
        """Mentions (and, when enabled, direct messages) after the cursor, oldest first.

        The cursor is the newest mention id; with direct messages it is {"mentions": id, "dms": id}.
        """
        if not self.settings.direct_messages:
            return self._mentions(_marks(cursor).get("mentions"))
        marks = _marks(cursor)
        mentions, newest = self._mentions(marks.get("mentions"))
        direct, newest_dm = self._direct_messages(marks.get("dms"))
        merged = sorted([*mentions, *direct], key=lambda m: (m["created_at"], m["external_id"]))
        return merged, json.dumps({k: v for k, v in (("mentions", newest), ("dms", newest_dm)) if v}, sort_keys=True)

    def _direct_messages(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]:
        """DM events newer than `cursor`: dm_events has no since_id, so pages are read back to it."""
        client = self._client()
        found: list[InboundMessage] = []
        newest, token = cursor, None
        for _ in range(MAX_PAGES):
            with errors(self.now):
                page = client.get_direct_message_events(
                    event_types="MessageCreate",
                    dm_event_fields=dms.DM_EVENT_FIELDS,
                    expansions=dms.DM_EXPANSIONS,
                    user_fields=mapping.USER_FIELDS,
                    media_fields=mapping.MEDIA_FIELDS,
                    max_results=100,
                    pagination_token=token,
                    user_auth=True,
                )
            events = dms.page_events(page)
            fresh = [e for e in events if cursor is None or int(e["id"]) > int(cursor)]
            for e in fresh:
                if newest is None or int(e["id"]) > int(newest):
                    newest = e["id"]
                if e.get("sender_id") != self.settings.user_id:  # our own replies come back as events too
                    found.append(dms.event_to_message(e, page))
            token = (page.get("meta") or {}).get("next_token")
            # First connect reads one page; later polls stop once they reach the cursor.
            if not token or cursor is None or len(fresh) < len(events):
                break
        return found, newest

    def _mentions(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]:
        """Mentions newer than the `since_id` cursor, oldest first; the cursor becomes the newest id."""
        client = self._client()
        messages: list[InboundMessage] = []
        newest = cursor
        token = None
        for _ in range(MAX_PAGES):
            with errors(self.now):
                page = client.get_users_mentions(
                    self.settings.user_id,
                    since_id=cursor,
                    pagination_token=token,
                    max_results=100,
                    expansions=mapping.EXPANSIONS,
                    tweet_fields=mapping.TWEET_FIELDS,
                    user_fields=mapping.USER_FIELDS,
                    media_fields=mapping.MEDIA_FIELDS,
                    user_auth=True,
                )
            messages.extend(mapping.page_to_messages(page))
            meta = page.get("meta") or {}
            if newest is None or (meta.get("newest_id") and int(meta["newest_id"]) > int(newest)):
                newest = meta.get("newest_id") or newest
            token = meta.get("next_token")
            # Without a since_id the first page is enough: no history import on first connect.
            if not token or cursor is None:
                break
        messages.sort(key=lambda m: int(m["raw"]["id"]))
        return messages, newest

    def reply(self, parent: dict, text: str, idempotency_key: str) -> OutboundResult:
        raw = parent.get("raw") or {}
        if raw.get("event_type") == "MessageCreate" and raw.get("dm_conversation_id"):
            return self._direct_reply(raw["dm_conversation_id"], text)
        if not raw.get("id"):
            raise ConnectorError("parent is not an X tweet", permanent=True)
        # Reply to the latest version of an edited tweet (raw["id"]), not to its original id.
        return self._tweet(text, in_reply_to_tweet_id=raw["id"])

    def _direct_reply(self, conversation_id: str, text: str) -> OutboundResult:
        with errors(self.now):
            data = self._client().create_direct_message(dm_conversation_id=conversation_id, text=text, user_auth=True)
        event_id = ((data or {}).get("data") or {}).get("dm_event_id")
        if not event_id:
            raise ConnectorError("X answered without the direct message's event id", permanent=False)
        return OutboundResult(str(event_id), None)

    def publish(self, text: str, idempotency_key: str, media: Sequence[Media] = ()) -> OutboundResult:
        """A post; images are fetched and uploaded (API v2 /2/media/upload) with their alt text.

        Video needs X's chunked upload (INIT/APPEND/FINALIZE and waiting for processing) and is refused.
        """
        if len(media) > MAX_IMAGES:
            raise ConnectorError(f"X takes at most {MAX_IMAGES} images per post", permanent=True)
        ids = []
        for m in media:
            item = fetch(m, MAX_IMAGE_BYTES)
            if not item.mime.startswith("image/"):
                raise ConnectorError(f"X posts here take images, not {item.mime}", permanent=True)
            ids.append(upload_image(self._keys(), item.data, item.mime, item.filename, item.alt, self.now))
        return self._tweet(text, **({"media_ids": ids} if ids else {}))

    def delete(self, external_id: str) -> None:
        """Delete one of our posts or replies; one that no longer exists (404) is the outcome wanted."""
        try:
            with errors(self.now):
                self._client().delete_tweet(external_id, user_auth=True)
        except ConnectorError as exc:
            if exc.platform_code != 404:
                raise

    def _tweet(self, text: str, **kwargs: object) -> OutboundResult:
        # X has no idempotency key; the outbox's send-once guard covers retries.
        with errors(self.now):
            data = self._client().create_tweet(text=text, user_auth=True, **kwargs)
        tweet = (data or {}).get("data") or {}
        if not tweet.get("id"):
            raise ConnectorError("X answered without a tweet id", permanent=False)
        return OutboundResult(tweet["id"], f"https://x.com/{self.settings.username or 'i/web'}/status/{tweet['id']}")

    def check(self) -> dict:
        def probe() -> str:
            with errors(self.now):
                me = self._client().get_me(user_auth=True)
            return f"connected as @{((me or {}).get('data') or {}).get('username')}"

        return check_by_calling(probe)


def _marks(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    if not cursor.startswith("{"):
        return {"mentions": cursor}  # a cursor from before direct messages were switched on
    try:
        marks = json.loads(cursor)
    except ValueError as exc:
        raise PayloadError(f"unreadable X cursor {cursor!r}") from exc
    if not isinstance(marks, dict):
        raise PayloadError(f"unreadable X cursor {cursor!r}")
    return {k: str(v) for k, v in marks.items() if v}
