"""The account inventory: every channel the organization owns, its owner team, who may post on it, the
health of its credentials and its last activity. Admins and coordinators test credentials and change owners.

Health comes from `channels.health` (kept by the poller, the sender and `test`) and the connector's
`check()`: connected, failing, expiring (the detail names the expiry date; shown as "expiring in N days"),
revoked, removed, or unknown (never checked).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.audit.actor import bind_actor
from onevoice.auth.permissions import POLICY_OWNERS, require
from onevoice.auth.principal import Principal
from onevoice.channels import service as channels
from onevoice.channels.models import Channel
from onevoice.db import utcnow
from onevoice.errors import InvalidInput
from onevoice.governance.models import ApprovalRule
from onevoice.teams.models import Team
from onevoice.teams.service import team_id

DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _expires_in_days(channel: Channel, now: datetime) -> int | None:
    if channel.health != "expiring" or not channel.health_detail:
        return None
    found = DATE.search(channel.health_detail)
    if not found:
        return None
    expires = datetime.fromisoformat(found.group(1)).replace(tzinfo=UTC)
    return max(0, (expires.date() - now.date()).days)  # calendar days: "until 12-02" on 11-22 is 10 days


def health_label(channel: Channel, now: datetime | None = None) -> str:
    days = _expires_in_days(channel, now or utcnow())
    if days is not None:
        return f"expiring in {days} day{'s' if days != 1 else ''}"
    return channel.health or "unknown"


def inventory(session: Session, who: Principal) -> list[dict]:
    """Every channel with what the inventory page and `GET /api/v1/accounts` show (anyone signed in may read)."""
    now = utcnow()
    teams = dict(session.execute(select(Team.id, Team.key)).all())
    rules = list(session.scalars(select(ApprovalRule).where(ApprovalRule.enabled.is_(True))
                                 .order_by(ApprovalRule.position, ApprovalRule.id)))
    out = []
    for ch in channels.list_channels(session):
        owner = teams.get(ch.owner_team_id)
        posters = ["admins", "coordinators"] + ([f"{owner} team"] if owner else []) + [
            "responders of the teams on each case (replies)"]
        approvals = [{"rule": r.name, "approver_team": teams.get(r.approver_team_id)} for r in rules
                     if (not r.channels or ch.key in r.channels) and (not r.channel_kinds or ch.kind in r.channel_kinds)
                     and (r.channels or r.channel_kinds)]
        out.append({"key": ch.key, "name": ch.name, "kind": ch.kind, "enabled": ch.enabled, "owner_team": owner,
                    "may_post": posters, "approval_rules": approvals, "health": ch.health or "unknown",
                    "health_label": health_label(ch, now), "health_detail": ch.health_detail,
                    "expires_in_days": _expires_in_days(ch, now), "credentials": bool(ch.secrets),
                    "last_activity_at": ch.last_activity_at, "created_at": ch.created_at})
    return out


def test(session: Session, who: Principal, key: str, secret_key: str, ip: str | None = None) -> dict:
    """Check a channel's credentials with its platform now and record the health (admins, coordinators)."""
    require(who, POLICY_OWNERS, "test channel credentials")
    try:
        result = channels.test_channel(session, key, secret_key)
    except InvalidInput as exc:
        channel = channels.get_channel(session, key)
        channels.set_health(channel, "failing", str(exc))
        result = {"status": "failing", "detail": str(exc), "expires_at": None}
    audit.record(session, who, "channel.test", f"channel:{key}", {"status": result.get("status")}, ip)
    return result


def set_owner(session: Session, who: Principal, key: str, team_key: str | None, ip: str | None = None) -> Channel:
    """Give a channel to another owner team (audited by the hook as a channel change)."""
    require(who, POLICY_OWNERS, "change a channel's owner team")
    channel = channels.get_channel(session, key)
    owner_id = None
    if team_key:
        owner_id = team_id(session, team_key)
        if owner_id is None:
            raise InvalidInput(f"unknown team {team_key!r}")

    bind_actor(session, who, ip)
    channel.owner_team_id = owner_id
    session.flush()
    return channel
