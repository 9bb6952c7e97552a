"""Wrong passwords are slowed down per account and address, from the audit log itself.

Every failed sign-in is appended to the audit log (`auth.sign_in_failed`, actor = the email tried, ip), so
the limits hold across every web node without another store, and the attempts are on record. Three limits,
none of which locks the real person out of their account because of what someone else does elsewhere:

* one account from one address: PER_PAIR failures in the window, then that pair waits for the window;
* one address, any account: PER_ADDRESS failures, then that address waits (one machine spraying accounts);
* one account from every address together: after ACCOUNT_FREE failures, each further attempt waits a
  little longer after the last failure (1, 2, 4 ... seconds, at most ACCOUNT_MAX_DELAY): guessing from many
  addresses slows to a crawl, while the owner, from their own address, waits seconds at most.

A refused attempt is not checked (no oracle) and not recorded. The address is the one the web server
trusts: X-Forwarded-For only from ONEVOICE_TRUSTED_PROXIES (see cli/serving.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.audit.models import AuditRecord
from onevoice.db import utcnow
from onevoice.errors import DomainError

FAILED = "auth.sign_in_failed"
WINDOW = timedelta(minutes=15)
PER_PAIR = 5
PER_ADDRESS = 20
ACCOUNT_FREE = 10
ACCOUNT_MAX_DELAY = timedelta(seconds=30)


class TooManyAttempts(DomainError):
    status_code = 429

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after = max(1, -(-int(retry_after.total_seconds() * 1000) // 1000))
        if self.retry_after < 60:
            when = f"{self.retry_after} second{'s' if self.retry_after > 1 else ''}"
        else:
            minutes = -(-self.retry_after // 60)
            when = f"{minutes} minute{'s' if minutes > 1 else ''}"
        super().__init__(f"Too many failed sign-ins. Try again in {when}.")


def account_delay(failures: int) -> timedelta:
    """How long after its last failure an account takes the next attempt, given its failures in the window."""
    if failures < ACCOUNT_FREE:
        return timedelta(0)
    return min(ACCOUNT_MAX_DELAY, timedelta(seconds=2 ** min(failures - ACCOUNT_FREE, 16)))


def check_allowed(session: Session, email: str, ip: str | None, now: datetime | None = None) -> None:
    """Raise TooManyAttempts when this account from this address, this address, or (for a moment) this
    account failed too often in the last window."""
    now = now or utcnow()
    email = (email or "").strip().lower()
    recent = select(AuditRecord.actor, AuditRecord.ip, AuditRecord.at).where(
        AuditRecord.action == FAILED, AuditRecord.at > now - WINDOW,
        or_(AuditRecord.actor == email, AuditRecord.ip == ip) if ip else AuditRecord.actor == email)
    rows = session.execute(recent).all()
    by_account = sorted(at for actor, _ip, at in rows if actor == email)
    by_pair = sorted(at for actor, row_ip, at in rows if actor == email and row_ip == ip)
    by_address = sorted(at for _a, row_ip, at in rows if ip and row_ip == ip)
    for hits, limit in ((by_pair, PER_PAIR), (by_address, PER_ADDRESS)):
        if len(hits) >= limit:
            # Free again when the oldest failure that counts towards the limit leaves the window.
            raise TooManyAttempts(hits[-limit] + WINDOW - now)
    if by_account:
        wait = by_account[-1] + account_delay(len(by_account)) - now
        if wait > timedelta(0):
            raise TooManyAttempts(wait)


def record_failure(session: Session, email: str, ip: str | None) -> None:
    email = (email or "").strip().lower()[:200]
    audit.record(session, email or "(empty)", FAILED, f"user:{email}", {}, ip)

