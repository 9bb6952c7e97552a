"""The routing seam: what the pipeline hands to the playbook, and the decision it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from onevoice.triage.types import TriageResult


@dataclass(slots=True)
class RouteInput:
    text: str
    kind: str
    channel: str
    created_at: datetime
    triage: TriageResult
    author_followers: int = 0
    author_vip: bool = False
    # The customer's marks (contacts.marks: "advocate", "detractor_watch"; "vip" when on the VIP list).
    author_marks: tuple[str, ...] = ()
    prior_messages: int = 0
    # The connector kind of the channel (x, mastodon, email...); the router fills it from the channel key.
    channel_kind: str | None = None


@dataclass(slots=True)
class Decision:
    lead_team: str | None
    collaborators: list[str] = field(default_factory=list)
    priority: str = "normal"
    sla_policy: str | None = None
    sla_due_at: datetime | None = None
    tags: list[str] = field(default_factory=list)
    requires_approval: bool = False
    close_as_spam: bool = False
    # Each fired rule: {"rule": name, "why": readable reason}
    rules: list[dict] = field(default_factory=list)
    playbook_version: str | None = None

    @property
    def reason(self) -> str:
        return "; ".join(f"{r['rule']}: {r['why']}" for r in self.rules) or "no rule fired"


class Router(Protocol):
    def route(self, item: RouteInput) -> Decision: ...
