"""Accept: store inbound messages durably, idempotent on (channel, external_id).

Nothing else happens here; processing is a job enqueued by the edge after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onevoice.channels.models import Channel
from onevoice.db import chunks, executemany, utcnow
from onevoice.messages.erased import ERASED, erased
from onevoice.messages.models import Message
from onevoice.messages.search_index import index_accepted
from onevoice.pipeline.validate import CleanMessage, Invalid, validate


class BatchTooLarge(ValueError):
    pass


@dataclass
class AcceptResult:
    accepted: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)

    @property
    def new_ids(self) -> list[int]:
        return [a["id"] for a in self.accepted if not a["duplicate"]]

    @property
    def failures(self) -> list[dict]:
        """The refusals to keep for review: not those of erased messages, whose payload must be kept nowhere."""
        return [r for r in self.rejected if not r.get("erased")]

    def to_dict(self) -> dict:
        return {"accepted": self.accepted, "rejected": [{"index": r["index"], "error": r["error"]}
                                                        for r in self.rejected]}


def _insert(session: Session):
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(Message)


def _ids_of(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    table = Message.__table__
    out: dict[tuple[int, str], int] = {}
    for chunk in chunks(keys):
        for mid, channel_id, external_id in session.execute(
                select(table.c.id, table.c.channel_id, table.c.external_id)
                .where(tuple_(table.c.channel_id, table.c.external_id).in_(chunk))):
            out[(channel_id, external_id)] = mid
    return out


def _store_sqlite(session: Session, rows: dict[tuple[int, str], dict]) -> tuple[dict, set]:
    """SQLite: which keys exist, one plain executemany for the others, then their ids. Cheaper than an
    INSERT ... RETURNING of many rows through the ORM (its result handling cost more than the insert), and
    exact: the transaction holds the only write lock (BEGIN IMMEDIATE), so nobody inserts in between. The two
    look-ups go straight to the driver: SQLAlchemy's rendering of an expanding IN of (channel, id) pairs, per
    call, cost a request more CPU than SQLite's insert."""
    driver = session.connection().connection.driver_connection  # begins the transaction (BEGIN IMMEDIATE)
    table = Message.__table__.name
    ids = _existing_sqlite(driver, table, list(rows))
    new = [key for key in rows if key not in ids]
    if new:
        (top,) = driver.execute(f"SELECT max(id) FROM {table}").fetchone()
        executemany(session, "intake.messages", insert(Message.__table__), [rows[key] for key in new])
        # Every row above the old top is one of these: nobody else can insert while the lock is held.
        added = {(channel_id, external_id): mid for mid, channel_id, external_id in driver.execute(
            f"SELECT id, channel_id, external_id FROM {table} WHERE id > ?", (top or 0,))}
        if len(added) != len(new) or any(key not in added for key in new):  # ids not past the top: ask by key
            added = _existing_sqlite(driver, table, new)
        index_accepted(driver, list(added.values()))  # the full-text index: by batch, not by the trigger
        ids.update(added)
    return ids, set(new)


def _existing_sqlite(driver, table: str, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """The ids of the keys already stored, per channel by the (channel_id, external_id) unique index."""
    by_channel: dict[int, list[str]] = {}
    for channel_id, external_id in keys:
        by_channel.setdefault(channel_id, []).append(external_id)
    out: dict[tuple[int, str], int] = {}
    for channel_id, external_ids in by_channel.items():
        for chunk in chunks(external_ids):
            marks = ",".join("?" * len(chunk))
            for mid, external_id in driver.execute(
                    f"SELECT id, external_id FROM {table} WHERE channel_id = ? AND external_id IN ({marks})",
                    (channel_id, *chunk)):
                out[(channel_id, external_id)] = mid
    return out


def accept_batch(session: Session, items: list, max_text: int = 40_000, max_batch: int = 1000,
                 direction: str = "inbound") -> AcceptResult:
    """Validate and store a batch. Valid items are kept even when others are rejected."""
    if len(items) > max_batch:
        raise BatchTooLarge(f"too many messages in one batch ({len(items)}, at most {max_batch})")
    now = utcnow()
    result = AcceptResult()
    clean: list[tuple[int, CleanMessage]] = []
    for index, item in enumerate(items):
        try:
            clean.append((index, validate(item, max_text, now)))
        except Invalid as exc:
            result.rejected.append({"index": index, "error": str(exc)})
    keys = {c.channel for _, c in clean}
    channels = dict(session.execute(select(Channel.key, Channel.id).where(Channel.key.in_(keys))).all()) \
        if keys else {}
    rows: dict[tuple[int, str], dict] = {}
    order: list[tuple[int, tuple[int, str]]] = []
    for index, c in clean:
        channel_id = channels.get(c.channel)
        if channel_id is None:
            result.rejected.append({"index": index, "error": f"unknown channel {c.channel!r}"})
            continue
        key = (channel_id, c.external_id)
        order.append((index, key))
        rows.setdefault(key, {
            "channel_id": channel_id, "external_id": c.external_id, "direction": direction,
            "kind": c.kind, "text": c.text, "author": c.author, "in_reply_to": c.in_reply_to,
            "url": c.url, "raw": c.raw, "created_at": c.created_at, "received_at": now,
            "status": "accepted", "attempts": 0, "attachments": c.attachments,
        })
    # A message erased with its author, delivered again by its platform, is not stored again (refused, so the
    # connector's path keeps no copy of it either: pipeline.ingest).
    gone = erased(session, list(rows))
    for key in gone:
        del rows[key]
    ids: dict[tuple[int, str], int] = {}
    fresh: set[tuple[int, str]] = set()
    if rows and session.get_bind().dialect.name == "sqlite":
        ids, fresh = _store_sqlite(session, rows)
    elif rows:
        stmt = _insert(session).on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
        inserted = session.execute(
            stmt.returning(Message.id, Message.channel_id, Message.external_id), list(rows.values()),
        ).all()
        for mid, channel_id, external_id in inserted:
            ids[(channel_id, external_id)] = mid
            fresh.add((channel_id, external_id))
        ids.update(_ids_of(session, [k for k in rows if k not in ids]))  # those already there
    seen: set[tuple[int, str]] = set()
    for index, key in order:
        if key in gone:
            result.rejected.append({"index": index, "error": ERASED, "erased": True})
            continue
        duplicate = key not in fresh or key in seen
        seen.add(key)
        result.accepted.append({"index": index, "id": ids[key], "external_id": key[1], "duplicate": duplicate})
    result.rejected.sort(key=lambda r: r["index"])
    return result
