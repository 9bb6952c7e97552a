"""X API v2 mention timeline (GET /2/users/:id/mentions) -> OneVoice messages."""

from __future__ import annotations

from typing import Any

from onevoice.connectors.base import InboundMessage, PayloadError, inbound

TWEET_FIELDS = [
    "created_at",
    "author_id",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "edit_history_tweet_ids",
    "lang",
]
USER_FIELDS = ["username", "name", "public_metrics"]
EXPANSIONS = ["author_id"]


def page_to_messages(page: Any) -> list[InboundMessage]:
    if not isinstance(page, dict) or "meta" not in page:
        raise PayloadError("X mentions response without 'meta'")
    users = {u.get("id"): u for u in (page.get("includes") or {}).get("users") or []}
    return [tweet_to_message(t, users) for t in page.get("data") or []]


def tweet_to_message(tweet: Any, users: dict[str, dict]) -> InboundMessage:
    if not isinstance(tweet, dict) or not tweet.get("id"):
        raise PayloadError("X tweet without an id")
    history = tweet.get("edit_history_tweet_ids") or [tweet["id"]]
    replied_to = next(
        (r.get("id") for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"), None
    )
    user = users.get(tweet.get("author_id")) or {}
    username = user.get("username")
    return inbound(
        # An edit is a new tweet id; the first id in its history names the message it edits.
        external_id=history[0],
        kind="comment" if replied_to else "mention",
        author={
            "external_id": tweet.get("author_id") or "",
            "handle": f"@{username}" if username else None,
            "name": user.get("name"),
            "followers": (user.get("public_metrics") or {}).get("followers_count"),
        },
        text=tweet.get("text"),
        created_at=tweet.get("created_at"),
        in_reply_to=replied_to,
        url=f"https://x.com/{username or 'i/web'}/status/{tweet['id']}",
        raw=tweet,
        edited=len(history) > 1,
    )
