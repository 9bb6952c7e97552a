"""From the intake journal to messages: parse journaled deliveries and store them, many per transaction.

The worker calls `ingest` before it processes: pending deliveries are read in order, each parsed by its
channel's connector, and all of them stored in one database transaction (intake's idempotency on
(channel, external id) makes a second pass after a crash a no-op). Only after that commit are they
marked done in the journal. What a connector cannot read is kept as an inbound failure for review, once.
A delivery whose parsing fails for another reason (an Instagram mention's text is fetched from the Graph
API, which may be down) stays pending and is tried again, up to `MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onevoice.channels.models import Channel, InboundFailure
from onevoice.channels.service import connector_for
from onevoice.connectors.base import ConnectorError, PayloadError, WebhookRequest
from onevoice.errors import InvalidInput
from onevoice.pipeline.inbound import accept_from_connector, store_failure
from onevoice.pipeline.journal import Delivery, IntakeJournal
from onevoice.pipeline.validate import clean_text

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
STORE_LIMIT = 1000  # deliveries per pass of ingest_received (one transaction each)


def ingest(journal: IntakeJournal, session_factory: sessionmaker[Session], secret_key: str, max_text: int,
           limit: int = 1000) -> list[int]:
    """Store up to `limit` pending deliveries as messages; returns the ids of the new ones (to process)."""
    deliveries = journal.pending(limit)
    if not deliveries:
        return []
    done: list[int] = []
    new_ids: list[int] = []
    with session_factory.begin() as session:
        channels = {c.id: c for c in session.scalars(
            select(Channel).where(Channel.id.in_({d.channel_id for d in deliveries})))}
        connectors: dict[int, object] = {}
        parsed: dict[int, list[tuple[Delivery, list]]] = defaultdict(list)
        for d in deliveries:
            channel = channels.get(d.channel_id)
            items = _parse(journal, session, channel, connectors, secret_key, d)
            if items is None:  # tried again later
                continue
            done.append(d.seq)
            if items:
                parsed[d.channel_id].append((d, items))
        for channel_id, group in parsed.items():
            new_ids += _store(session, channels[channel_id], group, max_text)
    journal.mark_done(done)
    return new_ids


def _store(session: Session, channel: Channel, group: list[tuple[Delivery, list]], max_text: int) -> list[int]:
    """One intake call for all of a channel's deliveries; per delivery where an edit or deletion may be folded
    into an earlier item (then intake's indices no longer name the items given, and a refused item must be
    kept with the delivery that carried it)."""
    if any(i.get("edited") or i.get("deleted") for _d, items in group for i in items):
        calls = [[(d, items)] for d, items in group]
    else:
        calls = [group]
    new_ids: list[int] = []
    for call in calls:
        items = [item for _d, its in call for item in its]
        result = accept_from_connector(session, channel, items, max_text)
        new_ids += result.new_ids
        owners = [d for d, its in call for _ in its]
        for r in result.failures:
            _failure(session, channel, owners[min(r["index"], len(owners) - 1)], f"item {r['index']}: {r['error']}")
    return new_ids


def _parse(journal: IntakeJournal, session: Session, channel: Channel | None, connectors: dict, secret_key: str,
           d: Delivery) -> list | None:
    """The delivery's items; [] when there is nothing to store; None to try it again later."""
    if channel is None:  # channels are disabled, never deleted; a missing one has nothing to hold the delivery
        log.warning("journaled delivery %d names channel %d, which does not exist; dropped", d.seq, d.channel_id)
        return []
    try:
        if channel.id not in connectors:
            connectors[channel.id] = connector_for(channel, secret_key)
        req = WebhookRequest.build("POST", d.headers, {}, d.body,
                                   received_at=datetime.fromtimestamp(d.received_at, UTC))
        return connectors[channel.id].parse_webhook(req)
    except PayloadError as exc:
        # Kept for review, and not retried: a payload that did not parse once never will.
        _failure(session, channel, d, str(exc))
        return []
    except (ConnectorError, InvalidInput, OSError) as exc:
        attempts = journal.retry_later(d.seq)
        if attempts < MAX_ATTEMPTS:
            log.warning("delivery %d for %s not read (attempt %d): %s", d.seq, channel.key, attempts, exc)
            return None
        _failure(session, channel, d, f"not read after {attempts} attempts: {exc}")
        return []


def _failure(session: Session, channel: Channel, d: Delivery, error: str) -> None:
    """Store an inbound failure unless a pass over the same delivery before a crash already did."""
    body = clean_text(d.body.decode("utf-8", "replace"))
    exists = session.scalar(select(InboundFailure.id).where(
        InboundFailure.channel_id == channel.id, InboundFailure.error == error[:2000], InboundFailure.body == body))
    if exists is None:
        store_failure(session, channel, d.headers, d.body, error)


def ingest_received(journal: IntakeJournal, step: Callable[[int], list[int]]) -> list[Delivery]:
    """Store as messages every delivery journaled until now, without waiting for the worker: an erasure or an
    export must see what the person wrote a moment ago (left in the journal, it would be stored after the
    erasure, whole). `step(limit)` is one `ingest` pass (Runtime.ingest). The messages stored are left
    accepted; the worker processes them as any other. Returns the deliveries received until now that are still
    waiting: those whose platform could not be read (retried later, `MAX_ATTEMPTS`). Passes stop when one
    stores nothing, so such a delivery gets one attempt more here, not all of them."""
    through = journal.last_seq()
    left = journal.backlog(through)
    while left:
        step(STORE_LIMIT)
        now = journal.backlog(through)
        if now >= left:
            break
        left = now
    return journal.pending(left, through) if left else []
