"""Who may do what in governance. Checked in the services, so pages, the API and the CLI agree."""

from __future__ import annotations

from onevoice.auth.principal import Principal
from onevoice.errors import Forbidden

# Set the policy, the guard rules and the approval rules.
POLICY_OWNERS = frozenset({"admin", "coordinator"})
# See who in a team has acknowledged the policy and done the training.
TEAM_OVERSEERS = frozenset({"admin", "coordinator", "manager"})
# Read and export the audit log.
AUDITORS = frozenset({"admin"})


def require(who: Principal, roles: frozenset[str], what: str) -> None:
    if who.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise Forbidden(f"only {allowed} may {what} (you are signed in as {who.role})")


def require_person(who: Principal, what: str) -> int:
    """The acting user's id; programs (tokens without a user) and the system cannot acknowledge for someone."""
    if who.user_id is None:
        raise Forbidden(f"only a signed-in person can {what}")
    return who.user_id


# Publish on a channel's own account (posts), beyond replying on a case.
PUBLISHERS = frozenset({"admin", "coordinator", "manager", "responder", "partner"})


def may_post_on(who: Principal, channel) -> bool:
    """Who may publish on a channel: admins and coordinators anywhere; managers and responders on the channels
    their team owns; partners only on the channels granted to them (`Principal.channel_ids`)."""
    if who.role in POLICY_OWNERS:
        return True
    if who.role not in PUBLISHERS:
        return False
    if who.role == "partner":
        return channel.id in who.channel_ids
    return channel.owner_team_id is not None and channel.owner_team_id in who.team_ids


def require_post_on(who: Principal, channel) -> None:
    if not may_post_on(who, channel):
        raise Forbidden(f"{who.label} ({who.role}) may not publish on channel {channel.key}")
