"""Messages erased with their author, known by a digest of (channel, platform id) so that intake refuses them.

A SHA-256 digest, not the id: after an erasure the database keeps no platform id of what the person wrote, only
what it needs to honour the erasure if the platform delivers the message again (a suppression list).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from onevoice.db import chunks
from onevoice.messages.models import ErasedMessage

ERASED = "not stored: this message was erased at its author's request"


def digest(external_id: str) -> str:
    return hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()


def record(session: Session, keys: list[tuple[int, str]]) -> None:
    """Remember erased messages by (channel id, platform id); a key already remembered is left as it is."""
    rows = {(channel_id, digest(external_id)) for channel_id, external_id in keys}
    known = set(session.execute(select(ErasedMessage.channel_id, ErasedMessage.digest).where(
        ErasedMessage.digest.in_([d for _, d in rows]))).all()) if rows else set()
    new = [{"channel_id": c, "digest": d} for c, d in sorted(rows - known)]
    if new:
        session.execute(insert(ErasedMessage), new)


def erased(session: Session, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (channel id, platform id) keys name an erased message. One look at an empty table when
    nobody was ever erased (intake asks on every batch)."""
    if not keys or not session.scalar(select(exists().select_from(ErasedMessage))):
        return set()
    by_digest = {(channel_id, digest(external_id)): (channel_id, external_id) for channel_id, external_id in keys}
    found: set[tuple[int, str]] = set()
    for chunk in chunks(sorted({d for _, d in by_digest})):
        for channel_id, d in session.execute(select(ErasedMessage.channel_id, ErasedMessage.digest)
                                             .where(ErasedMessage.digest.in_(chunk))):
            if (channel_id, d) in by_digest:
                found.add(by_digest[(channel_id, d)])
    return found
