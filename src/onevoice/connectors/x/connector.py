"""X (Twitter) API v2 through tweepy: mentions polling with a since_id cursor, replies, posts.

User-context OAuth 1.0a tokens are used throughout, so the same credentials read mentions and write.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

from onevoice.connectors.base import (
    BaseConnector,
    Capability,
    ConnectorError,
    InboundMessage,
    OutboundResult,
    check_by_calling,
)
from onevoice.connectors.x import mapping
from onevoice.connectors.x.client import errors, make_client

MAX_PAGES = 5  # per poll; the cursor carries on from there next time


class XSettings(BaseModel):
    user_id: str = Field(pattern=r"^\d+$", description="the numeric id of the organization's X account")
    username: str | None = Field(None, description="the account's @name without @, for links")
    consumer_key: SecretStr = Field(description="API key of the X app")
    consumer_secret: SecretStr = Field(description="API key secret of the X app")
    access_token: SecretStr = Field(description="access token of the account (read and write)")
    access_token_secret: SecretStr


class XConnector(BaseConnector):
    kind = "x"
    settings_model = XSettings
    capabilities = frozenset({Capability.POLLING, Capability.REPLY, Capability.PUBLISH})
    settings: XSettings

    def _client(self):
        s = self.settings
        return make_client(
            *(v.get_secret_value() for v in (s.consumer_key, s.consumer_secret, s.access_token, s.access_token_secret))
        )

    def poll(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]:
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
        if not raw.get("id"):
            raise ConnectorError("parent is not an X tweet", permanent=True)
        # Reply to the latest version of an edited tweet (raw["id"]), not to its original id.
        return self._tweet(text, in_reply_to_tweet_id=raw["id"])

    def publish(self, text: str, idempotency_key: str) -> OutboundResult:
        return self._tweet(text)

    def _tweet(self, text: str, **kwargs: str) -> OutboundResult:
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
