"""Who is acting: the signed-in user with their role and teams, handed to every service that checks access.

Services take a Principal rather than a request so the same rules hold for pages, the API and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("admin", "coordinator", "manager", "responder", "contributor", "viewer", "partner", "executive")
# These see every team's cases; everyone else sees the cases of the teams they belong to.
SEE_ALL = frozenset({"admin", "coordinator"})
# These may only read (governance refines what partners may do within their grant).
READ_ONLY = frozenset({"viewer", "contributor", "executive"})
# Executives read every report (reports.service) and, with no team, no case content.
# Outsiders: limited to the channels granted to them as well as to their teams (cases.access).
BY_GRANT = frozenset({"partner"})


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    email: str
    name: str
    role: str
    team_ids: frozenset[int] = field(default_factory=frozenset)
    team_keys: tuple[str, ...] = ()
    # Channels granted to a partner (auth.users.principal_for fills it from channel_grants); others go by team.
    channel_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def sees_all(self) -> bool:
        return self.role in SEE_ALL

    @property
    def by_grant(self) -> bool:
        """Limited to granted channels too (partners): a case must be on one of `channel_ids`."""
        return self.role in BY_GRANT

    @property
    def can_act(self) -> bool:
        return self.role not in READ_ONLY

    @property
    def label(self) -> str:
        """How this person appears in history and on sent messages."""
        return self.email


SYSTEM = Principal(user_id=None, email="system", name="System", role="admin")
