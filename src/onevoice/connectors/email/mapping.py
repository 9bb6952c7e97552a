"""RFC 5322 messages -> OneVoice messages, and the headers that thread a reply."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from onevoice.connectors.base import InboundMessage, inbound
from onevoice.connectors.html_text import html_to_text

KEPT_HEADERS = ("From", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References")
MAX_TEXT = 100_000


def parse_bytes(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)  # type: ignore[return-value]


def message_id(msg: EmailMessage, data: bytes) -> str:
    """The Message-ID, or a stable stand-in from the content: re-fetching the same mail gives the same id."""
    value = (msg.get("Message-ID") or "").strip()
    if value:
        return value if value.startswith("<") else f"<{value}>"
    return f"<sha256.{hashlib.sha256(data).hexdigest()[:40]}@onevoice.invalid>"


def references(msg: EmailMessage) -> list[str]:
    return [r for r in str(msg.get("References") or "").split() if r.startswith("<")]


def parent_id(msg: EmailMessage) -> str | None:
    in_reply_to = str(msg.get("In-Reply-To") or "").split()
    if in_reply_to:
        return in_reply_to[0]
    refs = references(msg)
    return refs[-1] if refs else None


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset or broken transfer encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        content = html_to_text(content)
    return content.strip()[:MAX_TEXT]


def is_automatic(msg: EmailMessage) -> bool:
    """Bounces, vacation replies and list traffic: answering them would start mail loops (RFC 3834)."""
    auto = str(msg.get("Auto-Submitted") or "no").lower()
    return auto != "no" or str(msg.get("Precedence") or "").lower() in ("bulk", "junk", "list")


def raw_payload(data: bytes, msg: EmailMessage, uid: int, uidvalidity: int, mailbox: str) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "mailbox": mailbox,
        "uidvalidity": uidvalidity,
        "uid": uid,
        "headers": {h: str(msg[h]) for h in KEPT_HEADERS if msg[h] is not None},
    }
    # The source itself is the platform payload; binary mail is kept as base64 so it stays valid JSON.
    try:
        raw["rfc822"] = data.decode("utf-8")
    except UnicodeDecodeError:
        raw["rfc822_base64"] = base64.b64encode(data).decode()
    return raw


def to_message(data: bytes, uid: int, uidvalidity: int, mailbox: str, received: datetime) -> InboundMessage:
    msg = parse_bytes(data)
    sender = getaddresses([str(msg.get("From") or "")])
    name, address = sender[0] if sender else ("", "")
    try:
        created = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else received
    except (TypeError, ValueError):
        created = received  # an unparsable Date header should not lose the mail
    subject = str(msg.get("Subject") or "").strip()
    text = body_text(msg)
    return inbound(
        external_id=message_id(msg, data),
        kind="direct",
        author={"external_id": address.lower(), "handle": address.lower() or None, "name": name or None},
        # The subject carries meaning in mail ("Refund request"); triage sees it with the body.
        text=f"{subject}\n\n{text}" if subject else text,
        created_at=created,
        in_reply_to=parent_id(msg),
        url=None,
        raw=raw_payload(data, msg, uid, uidvalidity, mailbox),
    )
