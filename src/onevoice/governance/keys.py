"""Rotating the secret key that encrypts channel credentials at rest (audited)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.auth.principal import Principal
from onevoice.channels.models import Channel
from onevoice.channels.service import rotate_secrets
from onevoice.errors import InvalidInput


def rotate_channel_key(session: Session, actor: Principal | str, old_key: str, new_key: str,
                       ip: str | None = None) -> int:
    """Re-encrypt every channel's secrets under `new_key`, all or nothing (a secret the old key cannot open
    raises and the caller's transaction rolls back). Returns how many channels were re-encrypted."""
    if not old_key or not new_key:
        raise InvalidInput("both the old and the new key are needed")
    if old_key == new_key:
        raise InvalidInput("the new key is the same as the old one")
    if len(new_key) < 16:
        raise InvalidInput("the new key is too short: use at least 16 characters (32 random bytes is better)")
    count = rotate_secrets(session, old_key, new_key)
    channels = list(session.scalars(select(Channel.key).where(Channel.secrets.is_not(None)).order_by(Channel.key)))
    audit.record(session, actor, "keys.rotate", "channels", {"channels": channels, "count": count}, ip)
    return count
