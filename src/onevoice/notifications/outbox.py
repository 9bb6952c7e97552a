"""Mail waiting to go out, and its delivery: written once per idempotence key, claimed by one node, retried
with growing delays when the server fails, kept (status `failed`) after MAX_ATTEMPTS rather than dropped."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from onevoice.db import unit_of_work, utcnow
from onevoice.notifications.mailer import Transport, build_message
from onevoice.notifications.models import MailMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Minutes before the next try, by the number of tries so far (1, 5, 15 minutes, then hourly).
BACKOFF_MINUTES = (1, 5, 15, 60)
# A message claimed this long ago and still `sending` was lost with its node: it is tried again.
STALE_CLAIM = timedelta(minutes=10)


def queue_mail(session: Session, *, key: str, kind: str, user_id: int | None, to_addr: str, subject: str,
               text: str, html: str) -> bool:
    """Add a message unless one with this key exists (another node, an earlier run). True when added."""
    if session.scalar(select(MailMessage.id).where(MailMessage.key == key)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(MailMessage(key=key, kind=kind, user_id=user_id, to_addr=to_addr, subject=subject[:300],
                                    text_body=text, html_body=html))
    except IntegrityError:  # written by another node between our look and our insert
        return False
    return True


def _claim(factory: sessionmaker[Session], now: datetime, limit: int) -> list[int]:
    """Mark due messages `sending`, each by a conditional update so that two nodes never both claim one."""
    with unit_of_work(factory) as session:
        due = list(session.scalars(select(MailMessage.id).where(or_(
            (MailMessage.status == "pending") & (MailMessage.next_at <= now),
            (MailMessage.status == "sending") & (MailMessage.claimed_at < now - STALE_CLAIM)))
            .order_by(MailMessage.next_at).limit(limit)))
        claimed = []
        for mail_id in due:
            done = session.execute(update(MailMessage).where(
                MailMessage.id == mail_id, or_(MailMessage.status == "pending",
                                               (MailMessage.status == "sending")
                                               & (MailMessage.claimed_at < now - STALE_CLAIM)))
                .values(status="sending", claimed_at=now))
            if done.rowcount == 1:
                claimed.append(mail_id)
    return claimed


def deliver_mail(factory: sessionmaker[Session], transport: Transport, from_addr: str,
                 now: datetime | None = None, limit: int = 50) -> dict:
    """Send what is due. Returns counts of sent, retried (failed this time) and given up."""
    now = now or utcnow()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for mail_id in _claim(factory, now, limit):
        with factory() as session:
            row = session.get(MailMessage, mail_id)
            message = build_message(key=row.key, from_addr=from_addr, to_addr=row.to_addr, subject=row.subject,
                                    text=row.text_body, html=row.html_body)
        try:
            transport.send(message)
        except Exception as exc:  # noqa: BLE001 - any failure of the server or the network: try again later
            error = f"{type(exc).__name__}: {exc}"[:2000]
            with unit_of_work(factory) as session:
                row = session.get(MailMessage, mail_id)
                row.attempts += 1
                row.last_error = error
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                    counts["failed"] += 1
                    log.error("mail %s to %s failed %d times, kept as failed: %s", row.key, row.to_addr,
                              row.attempts, error)
                else:
                    row.status = "pending"
                    wait = BACKOFF_MINUTES[min(row.attempts, len(BACKOFF_MINUTES)) - 1]
                    row.next_at = now + timedelta(minutes=wait)
                    counts["retry"] += 1
                    log.warning("mail %s to %s failed (try %d), retrying in %d min: %s", row.key, row.to_addr,
                                row.attempts, wait, error)
            continue
        with unit_of_work(factory) as session:
            row = session.get(MailMessage, mail_id)
            row.status, row.sent_at, row.attempts, row.last_error = "sent", utcnow(), row.attempts + 1, None
        counts["sent"] += 1
    return counts
