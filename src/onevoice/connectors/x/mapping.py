"""X API v2 mention timeline (GET /2/users/:id/mentions) -> OneVoice messages."""

from __future__ import annotations

from typing import Any

from onevoice.connectors.base import Attachment, Author, InboundMessage, PayloadError, attachment, inbound

TWEET_FIELDS = [
    "created_at",
    "author_id",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "edit_history_tweet_ids",
    "lang",
    "attachments",
    "entities",
]
USER_FIELDS = ["username", "name", "public_metrics"]
MEDIA_FIELDS = ["type", "url", "preview_image_url", "alt_text"]
EXPANSIONS = ["author_id", "attachments.media_keys"]
MEDIA_TYPES = {"photo": "image", "video": "video", "animated_gif": "video"}


def page_to_messages(page: Any) -> list[InboundMessage]:
    if not isinstance(page, dict) or "meta" not in page:
        raise PayloadError("X mentions response without 'meta'")
    users = users_by_id(page)
    media = media_by_key(page)
    return [tweet_to_message(t, users, media) for t in page.get("data") or []]


def users_by_id(page: dict) -> dict[str, dict]:
    return {u.get("id"): u for u in (page.get("includes") or {}).get("users") or []}


def author(user_id: Any, users: dict[str, dict]) -> Author:
    """The author of a tweet or DM from the page's expanded users (missing when X did not expand them)."""
    user = users.get(user_id) or {}
    username = user.get("username")
    return {"external_id": user_id or "", "handle": f"@{username}" if username else None, "name": user.get("name"),
            "followers": (user.get("public_metrics") or {}).get("followers_count")}


def media_by_key(page: dict) -> dict[str, dict]:
    return {m.get("media_key"): m for m in (page.get("includes") or {}).get("media") or [] if isinstance(m, dict)}


def media_attachments(keys: Any, media: dict[str, dict]) -> list[Attachment | None]:
    """Expanded media: photos have `url`; video and GIFs only a `preview_image_url` (the video itself is not
    served to API clients), so the link goes to the preview image."""
    out: list[Attachment | None] = []
    for key in keys or []:
        m = media.get(key) or {}
        out.append(attachment(MEDIA_TYPES.get(str(m.get("type")), "file"), m.get("url") or m.get("preview_image_url"),
                              m.get("alt_text")))
    return out


def tweet_to_message(tweet: Any, users: dict[str, dict], media: dict[str, dict] | None = None) -> InboundMessage:
    if not isinstance(tweet, dict) or not tweet.get("id"):
        raise PayloadError("X tweet without an id")
    history = tweet.get("edit_history_tweet_ids") or [tweet["id"]]
    replied_to = next(
        (r.get("id") for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"), None
    )
    username = (users.get(tweet.get("author_id")) or {}).get("username")
    return inbound(
        # An edit is a new tweet id; the first id in its history names the message it edits.
        external_id=history[0],
        kind="comment" if replied_to else "mention",
        author=author(tweet.get("author_id"), users),
        text=tweet.get("text"),
        created_at=tweet.get("created_at"),
        in_reply_to=replied_to,
        url=f"https://x.com/{username or 'i/web'}/status/{tweet['id']}",
        raw=tweet,
        edited=len(history) > 1,
        attachments=[
            *media_attachments((tweet.get("attachments") or {}).get("media_keys"), media or {}),
            # Links the author wrote; pic.twitter.com links are the media above, not separate links.
            *(attachment("link", u.get("expanded_url"), u.get("title"))
              for u in (tweet.get("entities") or {}).get("urls") or []
              if isinstance(u, dict) and not u.get("media_key")),
        ],
    )
