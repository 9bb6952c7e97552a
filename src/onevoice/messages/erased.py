"""Messages erased with their author, known by a digest of (channel, platform id) so that intake refuses them.

A SHA-256 digest, not the id: after an erasure the database keeps no platform id of what the person wrote, only
what it needs to honour the erasure if the platform delivers the message again (a suppression list).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from onevoice.db import chunks
from onevoice.messages.models import ErasedMessage

ERASED = "not stored: this message was erased at its author's request"


def digest(external_id: str) -> str:
    return hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()


def record(session: Session, keys: list[tuple[int, str]]) -> None:
    """Remember erased messages by (channel id, platform id); a key already remembered is left as it is."""
    rows = {(channel_id, digest(external_id)) for channel_id, external_id in keys}
    known: set[tuple[int, str]] = set()
    for chunk in chunks(sorted({d for _, d in rows})):  # a person may have written thousands
        known.update(map(tuple, session.execute(select(ErasedMessage.channel_id, ErasedMessage.digest)
                                                .where(ErasedMessage.digest.in_(chunk))).all()))
    new = [{"channel_id": c, "digest": d} for c, d in sorted(rows - known)]
    if new:
        session.execute(insert(ErasedMessage), new)


def erased(session: Session, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (channel id, platform id) keys name an erased message. Intake asks on every batch: while
    nobody was ever erased it costs one look at an empty table; after, one indexed look-up of the digests,
    straight through the driver (SQLAlchemy's rendering of a long IN list cost more than SQLite's search)."""
    if not keys:
        return set()
    bind = session.get_bind()
    driver = session.connection().connection.driver_connection
    table = ErasedMessage.__tablename__
    if bind.url not in _SEEN_ROWS:
        if driver.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None:
            return set()
        _SEEN_ROWS.add(bind.url)  # rows are never deleted: once there, always there
    by_digest = {(channel_id, digest(external_id)): (channel_id, external_id) for channel_id, external_id in keys}
    wanted = sorted({d for _, d in by_digest})
    found: set[tuple[int, str]] = set()
    for chunk in chunks(wanted):
        if bind.dialect.name == "postgresql":
            rows = driver.execute(f"SELECT channel_id, digest FROM {table} WHERE digest = ANY(%s)", (chunk,))
        else:
            rows = driver.execute(f"SELECT channel_id, digest FROM {table} WHERE digest IN "
                                  f"({','.join('?' * len(chunk))})", chunk)
        found.update(by_digest[key] for key in map(tuple, rows) if key in by_digest)
    return found


# Databases (by URL) where erased_messages was seen to hold rows, in this process.
_SEEN_ROWS: set = set()
