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
