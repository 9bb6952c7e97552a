"""Deliver queued outbound messages through their channel's connector, with retries.

Three kinds of job: "reply" (connector.reply), "post" (connector.publish with the post's media) and "delete"
(connector.delete of what a message put on the platform). A job is claimed (status "sending", with a lease),
the platform is called outside any transaction, and the outcome is written back. Transient errors back off
exponentially; permanent ones, or too many attempts, mark the message failed with the platform's error shown
where the text is (a person can retry it). An expired or revoked token also marks the channel's health, so its
owners see it in the account inventory. A crash mid-send leaves a lapsed lease that is claimed again; the
idempotency key, fixed when the job was queued, keeps the platform from posting twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from onevoice.cases.actions import case_team_keys
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.channels.service import connector_settings, keep_renewed, set_health
from onevoice.connectors.base import AuthExpired, Media
from onevoice.connectors.registry import build
from onevoice.db import unit_of_work, utcnow
from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.messages.schemas import MessageOut
from onevoice.outbox.models import OutboxJob

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=5)


def backoff(attempts: int, hint: float | None = None) -> timedelta:
    seconds = min(5 * 2 ** max(attempts - 1, 0), 1800)
    return timedelta(seconds=max(seconds, hint or 0))


def connector_config(channel: Channel, secret_key: str | None) -> dict:
    """The connector settings of a channel, with its secrets decrypted when the key is given."""
    if secret_key is None:
        return dict(channel.config or {})
    return connector_settings(channel, secret_key)


def _default_build(kind: str, config: dict):
    return build(kind, config)


def claim(session_factory: sessionmaker[Session], now: datetime, limit: int = 20) -> list[int]:
    with unit_of_work(session_factory) as session:
        q = select(OutboxJob).where(or_(
            and_(OutboxJob.status == "queued", OutboxJob.next_attempt_at <= now),
            and_(OutboxJob.status == "sending", OutboxJob.next_attempt_at <= now),
        )).order_by(OutboxJob.next_attempt_at).limit(limit)
        if session.bind.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        jobs = list(session.scalars(q))
        for job in jobs:
            job.status, job.attempts, job.next_attempt_at = "sending", job.attempts + 1, now + LEASE
        return [j.id for j in jobs]


def deliver_due(session_factory: sessionmaker[Session], build: Callable = _default_build,
                now: datetime | None = None, limit: int = 20, secret_key: str | None = None) -> list[dict]:
    """Deliver what is due; returns the live updates (case.updated) to publish."""
    live = []
    for job_id in claim(session_factory, now or utcnow(), limit):
        event = deliver_one(session_factory, job_id, build, secret_key)
        if event:
            live.append(event)
    return live


def deliver_one(session_factory: sessionmaker[Session], job_id: int, build: Callable = _default_build,
                secret_key: str | None = None) -> dict | None:
    with session_factory() as session:
        job = session.get(OutboxJob, job_id)
        message = session.get(Message, job.message_id)
        parent = session.get(Message, job.parent_message_id) if job.parent_message_id else None
        channel = session.get(Channel, job.channel_id)
        parent_data = None
        if parent is not None:
            parent_data = {**MessageOut.of(parent, channel.key).model_dump(), "raw": parent.raw}
        job_kind, payload = job.kind, dict(job.payload or {})
        kind, text, key, job_channel = channel.kind, message.text, job.idempotency_key, channel.id
        config = connector_config(channel, secret_key)
    result, error, connector = None, None, None
    try:
        connector = build(kind, config)
        if job_kind == "delete":
            connector.delete(payload["external_id"])
        elif job_kind == "post" or parent_data is None:
            media = [Media(m["url"], m.get("mime", ""), m.get("alt", "")) for m in payload.get("media") or []]
            result = connector.publish(text, key, media) if media else connector.publish(text, key)
        else:
            result = connector.reply(parent_data, text, key)
    except Exception as exc:  # every failure is recorded on the message; none is lost
        error = exc
    if secret_key is not None and getattr(connector, "renewed", None):  # a rotated token: keep it, sent or not
        with unit_of_work(session_factory) as session:
            keep_renewed(session.get(Channel, job_channel), connector, secret_key)
    return _finish(session_factory, job_id, result, error)


def _sent(session: Session, job: OutboxJob, message: Message, result, now: datetime) -> tuple[str, dict]:
    if job.kind == "delete":
        message.status, message.error = "deleted", None
        return "post.deleted" if job.case_id is None else "reply.deleted", {"message_id": message.id}
    message.status, message.error, message.processed_at = "sent", None, now
    message.url = result.url
    taken = session.scalar(select(Message.id).where(Message.channel_id == message.channel_id,
                                                    Message.external_id == result.external_id))
    if taken is None:
        message.external_id = result.external_id
    message.raw = {"platform_id": result.external_id, "url": result.url}
    return f"{job.kind}.sent", {"message_id": message.id, "url": result.url, "platform_id": result.external_id}


def _unhealthy(session: Session, channel_id: int, error: BaseException) -> None:
    """A token the platform refuses: the channel shows it (and its owners hear of it) instead of only this send."""
    channel = session.get(Channel, channel_id)
    if channel.health != "revoked":
        set_health(channel, "revoked", str(error))
        session.add(Event(kind="channel.revoked", actor="outbox", data={
            "channel": channel.key, "owner_team_id": channel.owner_team_id, "detail": str(error)[:500]}))


def _finish(session_factory, job_id: int, result, error: BaseException | None) -> dict | None:
    now = utcnow()
    with unit_of_work(session_factory) as session:
        job = session.get(OutboxJob, job_id)
        message = session.get(Message, job.message_id)
        case = session.get(Case, job.case_id) if job.case_id else None
        what = "reply" if job.kind == "reply" else "post"
        if error is None:
            job.status, job.sent_at, job.last_error = "sent", now, None
            kind, data = _sent(session, job, message, result, now)
            if case is not None and case.first_response_at is None and job.kind == "reply":
                case.first_response_at = now
        else:
            permanent = bool(getattr(error, "permanent", False)) or isinstance(error, NotImplementedError | KeyError)
            text = str(error) or type(error).__name__
            if isinstance(error, AuthExpired):
                _unhealthy(session, job.channel_id, error)
            job.last_error = text[:2000]
            deleting = job.kind == "delete"
            if permanent or job.attempts >= MAX_ATTEMPTS:
                job.status = "failed"
                # A delete that fails leaves the text published: the message stays sent, with the reason.
                message.status = "sent" if deleting else "failed"
                message.error = (f"delete failed: {text}" if deleting else text)[:2000]
                kind = f"{what}.{'delete_failed' if deleting else 'failed'}"
            else:
                job.status = "queued"
                job.next_attempt_at = now + backoff(job.attempts, getattr(error, "retry_after", None))
                message.error = f"retrying{' delete' if deleting else ''}: {text}"[:2000]
                kind = f"{what}.retrying"
            log.warning("outbox job %s: %s (%s)", job.id, text, kind)
            data = {"message_id": message.id, "error": text[:500], "attempts": job.attempts}
        session.add(Event(kind=kind, case_id=job.case_id, message_id=message.id, actor="outbox", data=data))
        if case is None:
            return None
        # The case's teams, so that live streams filter it like any case event (an empty list reached everyone).
        lead, teams = case_team_keys(session, case.id)
        return {"type": "case.updated", "case_id": case.id, "status": case.status, "priority": case.priority,
                "lead_team": lead, "teams": teams, "change": kind}
