"""Wrong passwords are rate-limited per account and per address, from the audit log itself.

Every failed sign-in is appended to the audit log (`auth.sign_in_failed`, actor = the email tried, ip), so
the limit holds across every web node without another store, and the attempts are on record. Once a limit
is reached, further attempts are refused without checking the password (no oracle, no more records) until
the window has passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onevoice.db import utcnow
from onevoice.errors import DomainError
from onevoice.governance import audit
from onevoice.governance.models import AuditRecord

FAILED = "auth.sign_in_failed"
WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 20


class TooManyAttempts(DomainError):
    status_code = 429

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after = max(1, int(retry_after.total_seconds()))
        minutes = max(1, -(-self.retry_after // 60))
        super().__init__(f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.")


def check_allowed(session: Session, email: str, ip: str | None, now: datetime | None = None) -> None:
    """Raise TooManyAttempts when this account or this address failed too often in the last window."""
    now = now or utcnow()
    since = now - WINDOW
    email = (email or "").strip().lower()
    recent = select(AuditRecord.actor, AuditRecord.ip, AuditRecord.at).where(
        AuditRecord.action == FAILED, AuditRecord.at > since,
        or_(AuditRecord.actor == email, AuditRecord.ip == ip) if ip else AuditRecord.actor == email)
    rows = session.execute(recent).all()
    by_account = sorted(at for actor, _ip, at in rows if actor == email)
    by_address = sorted(at for _a, row_ip, at in rows if ip and row_ip == ip)
    for hits, limit in ((by_account, PER_ACCOUNT), (by_address, PER_ADDRESS)):
        if len(hits) >= limit:
            # Free again when the oldest failure that counts towards the limit leaves the window.
            raise TooManyAttempts(hits[-limit] + WINDOW - now)


def record_failure(session: Session, email: str, ip: str | None) -> None:
    email = (email or "").strip().lower()[:200]
    audit.record(session, email or "(empty)", FAILED, f"user:{email}", {}, ip)

