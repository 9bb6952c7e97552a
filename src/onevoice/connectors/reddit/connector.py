"""Reddit through praw (script app): inbox mentions and the organization's subreddit comments,
replies in the comment thread, and self posts to the subreddit."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field, SecretStr, model_validator

from onevoice.connectors.base import (
    BaseConnector,
    Capability,
    ConnectorError,
    InboundMessage,
    OutboundResult,
    PayloadError,
    RateLimited,
    check_by_calling,
)
from onevoice.connectors.reddit import mapping
from onevoice.connectors.reddit.client import errors, make_reddit


class RedditSettings(BaseModel):
    client_id: str = Field(description="the app's id (under its name on reddit.com/prefs/apps)")
    client_secret: SecretStr
    username: str = Field(description="the account the app runs as, without u/")
    password: SecretStr | None = Field(None, description="the account's password (a script app)")
    refresh_token: SecretStr | None = Field(
        None, description="a permanent token from signing in on the Accounts page (a web app); instead of password")
    subreddit: str | None = Field(None, pattern=r"^[A-Za-z0-9_]{2,21}$", description="watched subreddit, no r/")
    user_agent: str | None = Field(None, description="defaults to 'onevoice:connector:0.1 (by u/<username>)'")


    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> RedditSettings:
        if self.password is None and self.refresh_token is None:
            raise ValueError("give either password (script app) or refresh_token (signed in from the Accounts page)")
        return self


class RedditConnector(BaseConnector):
    kind = "reddit"
    settings_model = RedditSettings
    capabilities = frozenset({Capability.POLLING, Capability.REPLY, Capability.PUBLISH, Capability.DELETE})
    settings: RedditSettings

    def _reddit(self):
        s = self.settings
        agent = s.user_agent or f"onevoice:connector:0.1 (by u/{s.username})"
        return make_reddit(
            s.client_id, s.client_secret.get_secret_value(), s.username,
            s.password.get_secret_value() if s.password else None, agent,
            refresh_token=s.refresh_token.get_secret_value() if s.refresh_token else None,
        )

    def poll(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]:
        """Newest mentions and subreddit comments at or after the cursor's times, oldest first.

        The cursor is {"mentions": t, "comments": t} in created_utc; items at exactly t come again
        and are absorbed by intake idempotency, which is what makes equal timestamps safe.
        """
        try:
            marks: dict[str, float] = json.loads(cursor) if cursor else {}
        except ValueError as exc:
            raise PayloadError(f"unreadable Reddit cursor {cursor!r}") from exc
        since = dict(marks)
        reddit = self._reddit()
        sources = [("mentions", "/message/mentions", "mention")]
        if self.settings.subreddit:
            sources.append(("comments", f"/r/{self.settings.subreddit}/comments", "comment"))
        seen: dict[str, InboundMessage] = {}
        for key, path, kind in sources:
            with errors(self.now):
                listing = reddit.request(method="GET", path=path, params={"limit": 100, "raw_json": 1})
            for d in mapping.listing_children(listing):
                created = float(d.get("created_utc") or 0)
                if key in since and created < since[key]:
                    continue
                marks[key] = max(marks.get(key, 0.0), created)
                seen.setdefault(d.get("name", ""), mapping.comment_to_message(d, kind))
        messages = sorted(seen.values(), key=lambda m: (m["created_at"], m["external_id"]))
        return messages, json.dumps(marks, sort_keys=True)

    def reply(self, parent: dict, text: str, idempotency_key: str) -> OutboundResult:
        target = (parent.get("raw") or {}).get("name") or parent.get("external_id")
        if not target or not str(target).startswith(("t1_", "t3_", "t4_")):
            raise ConnectorError("parent is not a Reddit comment, post or message", permanent=True)
        data = self._api("/api/comment", {"thing_id": target, "text": text, "api_type": "json"})
        thing = data["things"][0]["data"]
        permalink = thing.get("permalink")
        return OutboundResult(thing["name"], f"https://www.reddit.com{permalink}" if permalink else None)

    def publish(self, text: str, idempotency_key: str) -> OutboundResult:
        if not self.settings.subreddit:
            raise ConnectorError("set `subreddit` to publish on Reddit", permanent=True)
        title = text.strip().splitlines()[0][:300] if text.strip() else "Update"
        data = self._api(
            "/api/submit",
            {"sr": self.settings.subreddit, "kind": "self", "title": title, "text": text, "api_type": "json"},
        )
        return OutboundResult(data["name"], data.get("url"))

    def delete(self, external_id: str) -> None:
        """Delete our comment or post (/api/del). Reddit answers {} whether or not it still existed."""
        if not external_id.startswith(("t1_", "t3_")):
            raise ConnectorError(f"not a Reddit comment or post fullname: {external_id[:100]!r}", permanent=True)
        with errors(self.now):
            self._reddit().request(method="POST", path="/api/del", data={"id": external_id})

    def _api(self, path: str, form: dict) -> dict:
        # No idempotency key on Reddit's write API; the outbox's send-once guard covers retries.
        with errors(self.now):
            body = self._reddit().request(method="POST", path=path, data=form)
        result = (body or {}).get("json") or {}
        errs = result.get("errors") or []
        if errs:
            wait = mapping.api_errors_retry_after(errs)
            message = "; ".join(": ".join(str(p) for p in e[:2]) for e in errs)
            if wait is not None:
                raise RateLimited(f"Reddit: {message}", retry_after=wait, platform_code="RATELIMIT")
            raise ConnectorError(f"Reddit: {message}", permanent=True, platform_code=errs[0][0])
        if "data" not in result:
            raise ConnectorError("Reddit answered without data", permanent=False)
        return result["data"]

    def check(self) -> dict:
        def probe() -> str:
            with errors(self.now):
                me = self._reddit().request(method="GET", path="/api/v1/me")
            return f"connected as u/{(me or {}).get('name')}"

        return check_by_calling(probe)
