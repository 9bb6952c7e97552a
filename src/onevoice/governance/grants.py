"""Partner grants: which channels an outside partner may work on (admins grant and revoke; audited).

The rule they feed (`cases.access`): a partner sees and acts on a case only when its channel is granted to
them AND one of their teams has a part in it; they publish only on granted channels
(`permissions.may_post_on`). A grant counts from the partner's next request: every edge builds the
Principal afresh (`auth.users.principal_for`).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.auth.models import ChannelGrant, User
from onevoice.auth.permissions import AUDITORS, require
from onevoice.auth.principal import BY_GRANT, Principal
from onevoice.channels.models import Channel
from onevoice.errors import InvalidInput, NotFound
from onevoice.governance.people import get_user

# Granting is a permission change: admins only, like the rest of the People page.
GRANTERS = AUDITORS


def _channel(session: Session, key: str) -> Channel:
    channel = session.scalar(select(Channel).where(Channel.key == (key or "").strip()))
    if channel is None:
        raise NotFound(f"no channel {key!r}")
    return channel


def _partner(session: Session, email: str) -> User:
    user = get_user(session, email)
    if user.role not in BY_GRANT:
        raise InvalidInput(f"{user.email} is a {user.role}: channel grants limit partners; other roles go by team")
    return user


def grant(session: Session, who: Principal, email: str, channel_key: str, ip: str | None = None) -> bool:
    """Let a partner work on a channel. True if granted now, False if they already had it (idempotent)."""
    require(who, GRANTERS, "grant channels to partners")
    user, channel = _partner(session, email), _channel(session, channel_key)
    if session.get(ChannelGrant, (user.id, channel.id)) is not None:
        return False
    session.add(ChannelGrant(user_id=user.id, channel_id=channel.id, granted_by=who.label))
    session.flush()
    audit.record(session, who, "access.grant", f"user:{user.email}", {"channel": channel.key}, ip)
    return True


def revoke(session: Session, who: Principal, email: str, channel_key: str, ip: str | None = None) -> bool:
    """Take a channel away from a partner; their cases on it disappear from their next request. True if a
    grant was removed, False if there was none (idempotent; only a removal is audited)."""
    require(who, GRANTERS, "revoke partners' channels")
    user, channel = get_user(session, email), _channel(session, channel_key)
    gone = session.execute(delete(ChannelGrant).where(ChannelGrant.user_id == user.id,
                                                      ChannelGrant.channel_id == channel.id)).rowcount
    if gone:
        audit.record(session, who, "access.revoke", f"user:{user.email}", {"channel": channel.key}, ip)
    return bool(gone)


def grants_by_user(session: Session, who: Principal) -> dict[str, list[str]]:
    """Partner email -> granted channel keys (every partner, even with none), for admins."""
    require(who, GRANTERS, "see partners' grants")
    out: dict[str, list[str]] = {email: [] for email in session.scalars(
        select(User.email).where(User.role.in_(BY_GRANT)).order_by(User.email))}
    rows = session.execute(select(User.email, Channel.key).join(ChannelGrant, ChannelGrant.user_id == User.id)
                           .join(Channel, Channel.id == ChannelGrant.channel_id).order_by(User.email, Channel.key))
    for email, key in rows:
        out.setdefault(email, []).append(key)
    return out


def my_channels(session: Session, who: Principal) -> list[str]:
    """The channel keys granted to this person (what a partner sees on their own pages)."""
    if who.user_id is None or not who.channel_ids:
        return []
    return list(session.scalars(select(Channel.key).where(Channel.id.in_(who.channel_ids)).order_by(Channel.key)))
