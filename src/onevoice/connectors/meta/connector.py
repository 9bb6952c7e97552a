"""Facebook Pages and Instagram (professional accounts linked to the Page) over the Graph API.

Inbound by webhook (Page `feed` and `messages`, Instagram `comments`, `mentions` and `messages`),
verified by X-Hub-Signature-256, with catch-up polling behind it (meta/polling.py). Replies go back where
the customer wrote: a comment thread or the Messenger / Instagram Direct conversation. Posts may carry
photos (by URL; Meta fetches them) and anything the Page sent can be deleted.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field, SecretStr

from onevoice.connectors.base import (
    BaseConnector,
    Capability,
    ConnectorError,
    InboundMessage,
    Media,
    OutboundResult,
    PayloadError,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
    check_by_calling,
    health,
)
from onevoice.connectors.meta import mapping, polling
from onevoice.connectors.meta.client import GraphClient, ObjectGone
from onevoice.connectors.signing import hmac_sha256_hex, require_signature

EXPIRING_SOON = timedelta(days=7)


class MetaSettings(BaseModel):
    app_secret: SecretStr = Field(description="the Meta app's secret; signs every webhook")
    verify_token: SecretStr = Field(description="any string you also type into the app's webhook setup")
    page_access_token: SecretStr = Field(description="a long-lived Page access token")
    page_id: str = Field(description="the Facebook Page id")
    instagram_account_id: str | None = Field(None, description="the linked Instagram professional account id")
    app_id: str | None = Field(None, description="the app id; enables token-expiry checks via debug_token")
    replay_window_hours: int = Field(48, ge=1, le=720, description="refuse signed deliveries older than this")
    graph_version: str = Field("v21.0", pattern=r"^v\d+\.\d+$")
    graph_url: str = "https://graph.facebook.com"


class MetaConnector(BaseConnector):
    kind = "meta"
    settings_model = MetaSettings
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
    settings: MetaSettings

    @property
    def graph(self) -> GraphClient:
        s = self.settings
        return GraphClient(self.http, s.graph_url, s.graph_version, s.page_access_token.get_secret_value(), self.now)

    def _own_ids(self) -> set[str]:
        return {i for i in (self.settings.page_id, self.settings.instagram_account_id) if i}

    # --- inbound --------------------------------------------------------------------------------------

    def handshake(self, req: WebhookRequest) -> WebhookResponse | None:
        if req.method != "GET" or "hub.mode" not in req.query:
            return None
        token = req.query.get("hub.verify_token", "")
        expected = self.settings.verify_token.get_secret_value()
        if req.query.get("hub.mode") == "subscribe" and hmac.compare_digest(token.encode(), expected.encode()):
            return WebhookResponse(200, req.query.get("hub.challenge", ""), "text/plain")
        return WebhookResponse(403, "verify token mismatch", "text/plain")

    def verify_webhook(self, req: WebhookRequest) -> None:
        # Meta signs the exact bytes it sent; the body must not be re-serialised before this check.
        expected = hmac_sha256_hex(self.settings.app_secret.get_secret_value(), req.body)
        require_signature(expected, req.headers.get("X-Hub-Signature-256"))
        self._require_recent(req)

    def _require_recent(self, req: WebhookRequest) -> None:
        """Meta signs no timestamp, so a captured delivery would verify for ever. Its entries carry their event
        time: a delivery whose newest entry is older than the window is a replay (Meta itself retries a failed
        delivery for up to 36 hours, hence 48 by default). Within the window, intake idempotency absorbs
        duplicates. A body without entry times is left to parse_webhook, which reports it as malformed."""
        try:
            entries = req.json().get("entry")
        except (PayloadError, AttributeError):
            return
        times = [e["time"] for e in entries or () if isinstance(e, dict) and isinstance(e.get("time"), int | float)]
        if not times:
            return
        # Page changes give seconds, Messenger entries milliseconds.
        newest = max(t / 1000 if t > 1e11 else t for t in times)
        age_hours = (self.now().timestamp() - newest) / 3600
        if age_hours > self.settings.replay_window_hours:
            raise SignatureError(f"delivery from {age_hours:.0f} hours ago is outside the replay window "
                                 f"({self.settings.replay_window_hours} hours)")

    def parse_webhook(self, req: WebhookRequest) -> list[InboundMessage]:
        return mapping.parse(req.json(), self._own_ids(), self._lookup_mention)

    def poll(self, cursor: str | None) -> tuple[list[InboundMessage], str | None]:
        """Catch up Page comments and conversations a webhook may have missed (see meta/polling.py)."""
        return polling.poll(
            self.graph, self.settings.page_id, self._own_ids(), bool(self.settings.instagram_account_id), cursor,
            self.now()
        )

    def _lookup_mention(self, value: dict) -> dict:
        """Mentions arrive as bare ids; the text is read with the mentioned_* fields of the IG user."""
        ig = self.settings.instagram_account_id
        if not ig:
            raise PayloadError("Instagram mention received but instagram_account_id is not configured")
        if value.get("comment_id"):
            fields = (
                f"mentioned_comment.comment_id({value['comment_id']})"
                "{id,text,timestamp,username,like_count,media{id,permalink}}"
            )
            return self.graph.get(ig, fields=fields).get("mentioned_comment") or {}
        fields = f"mentioned_media.media_id({value['media_id']}){{id,caption,timestamp,username,permalink}}"
        return self.graph.get(ig, fields=fields).get("mentioned_media") or {}

    # --- outbound -------------------------------------------------------------------------------------

    def reply(self, parent: dict, text: str, idempotency_key: str) -> OutboundResult:
        # The Graph API has no idempotency key; the outbox's guard (send once per key) is what
        # prevents double posts, so this method makes exactly one request per call.
        raw = parent.get("raw") or {}
        # Webhook messaging events name the customer in `sender`; polled Graph messages in `from`.
        polled_message = "to" in raw and str(raw.get("id", "")).startswith(("m_", "aWdf"))
        if "sender" in raw or polled_message:  # Messenger or Instagram Direct: answer in the conversation
            customer = (raw.get("sender") or raw.get("from") or {}).get("id")
            data = self.graph.post(
                f"{self.settings.page_id}/messages",
                recipient={"id": customer},
                messaging_type="RESPONSE",
                message={"text": text},
            )
            return OutboundResult(str(data.get("message_id") or data.get("id")), None)
        if "created_time" in raw and "item" not in raw and raw.get("id"):  # a polled Page comment
            data = self.graph.post(f"{raw['id']}/comments", message=text)
            return OutboundResult(str(data["id"]), f"https://www.facebook.com/{data['id']}")
        if raw.get("item") == "comment" or "post_id" in raw:  # Facebook Page comment or post
            target = raw.get("comment_id") or raw.get("post_id")
            data = self.graph.post(f"{target}/comments", message=text)
            return OutboundResult(str(data["id"]), f"https://www.facebook.com/{data['id']}")
        if "media_id" in raw:  # an @mention: answered through the IG user's mentions edge
            extra = {"comment_id": raw["comment_id"]} if raw.get("comment_id") else {}
            ig = self.settings.instagram_account_id
            data = self.graph.post(f"{ig}/mentions", media_id=raw["media_id"], message=text, **extra)
            return OutboundResult(str(data["id"]), None)
        if "media" in raw and raw.get("id"):  # a comment on our own Instagram media
            data = self.graph.post(f"{raw['id']}/replies", message=text)
            return OutboundResult(str(data["id"]), None)
        raise ConnectorError("cannot tell where to reply: parent is not a Meta comment or message", permanent=True)

    def publish(self, text: str, idempotency_key: str, media: Sequence[Media] = ()) -> OutboundResult:
        """A Page post; with media, Meta fetches each image by its URL (it must be publicly reachable).

        One photo is one /photos call. Several are uploaded unpublished and attached to one feed post,
        which is how the Graph API builds a multi-photo post. Video is not offered: /videos needs a
        resumable upload session, a different flow from the one-call photo path.
        """
        page = self.settings.page_id
        for m in media:
            if m.mime and not m.mime.startswith("image/"):
                raise ConnectorError(f"Meta posts take images here, not {m.mime}", permanent=True)
        if len(media) == 1:
            data = self.graph.post(f"{page}/photos", url=media[0].url, caption=text, **_alt(media[0]))
            post = str(data.get("post_id") or data["id"])
            return OutboundResult(post, f"https://www.facebook.com/{post}")
        attached = []
        for m in media:
            photo = self.graph.post(f"{page}/photos", url=m.url, published=False, **_alt(m))
            attached.append({"media_fbid": str(photo["id"])})
        extra = {"attached_media": attached} if attached else {}
        data = self.graph.post(f"{page}/feed", message=text, **extra)
        return OutboundResult(str(data["id"]), f"https://www.facebook.com/{data['id']}")

    def delete(self, external_id: str) -> None:
        """Delete a post, comment or photo the Page made. Gone already (code 100, subcode 33) is success."""
        with contextlib.suppress(ObjectGone):
            self.graph.delete(external_id)

    # --- health ---------------------------------------------------------------------------------------

    def check(self) -> dict:
        s = self.settings
        if not s.app_id:
            return check_by_calling(lambda: f"connected as {self.graph.get('me', fields='id,name').get('name')}")
        try:
            # Meta takes the token to inspect only as the input_token query parameter (the one token that
            # travels in a URL); the app token that asks goes in the header like every other.
            info = self.graph.get(
                "debug_token",
                token=f"{s.app_id}|{s.app_secret.get_secret_value()}",
                input_token=s.page_access_token.get_secret_value(),
            ).get("data", {})
        except ConnectorError as exc:
            return health("revoked" if exc.permanent and exc.platform_code in (190, 102) else "failing", str(exc))
        if not info.get("is_valid"):
            return health("revoked", (info.get("error") or {}).get("message") or "token is not valid")
        expires = info.get("expires_at") or 0  # 0 means a never-expiring Page token
        if not expires:
            return health("connected", "Page token valid, does not expire")
        expires_at = datetime.fromtimestamp(expires, UTC)
        status = "expiring" if expires_at - self.now() < EXPIRING_SOON else "connected"
        return health(status, f"Page token valid until {expires_at:%Y-%m-%d}", expires_at)


def _alt(m: Media) -> dict:
    return {"alt_text_custom": m.alt} if m.alt else {}
