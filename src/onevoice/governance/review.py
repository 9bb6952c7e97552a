"""The one call the reply and publishing paths make before anything goes out.

    verdict = review_outgoing(session, who, text, case=case)          # or channel=... for a post
    if verdict.blocked:    refuse; show verdict.blocks (what and where)
    elif verdict.approval: hold the text; approval request to verdict.approval.team_key by .due_at
    else:                  send; show verdict.warnings next to the sent text
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.errors import NotFound
from onevoice.governance.approval_rules import ApprovalRequirement, approval_needed
from onevoice.governance.guard import Finding, check_text
from onevoice.governance.guard_rules import active_rules


@dataclass(frozen=True)
class GuardResult:
    """The guard's findings, split by what they mean."""

    findings: list[Finding]
    channel_kind: str | None = None

    @property
    def blocks(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "block"]

    @property
    def blocked(self) -> bool:
        return any(f.severity == "block" for f in self.findings)

    @property
    def needs_approval(self) -> bool:
        return any(f.severity == "approval" for f in self.findings)

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warn"]

    def to_dict(self) -> dict:
        return {"blocked": self.blocked, "needs_approval": self.needs_approval, "channel_kind": self.channel_kind,
                "findings": [f.to_dict() for f in self.findings]}


@dataclass(frozen=True)
class Verdict:
    guard: GuardResult
    approval: ApprovalRequirement | None = None
    sponsored: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        return self.guard.blocked

    @property
    def blocks(self) -> list[Finding]:
        return self.guard.blocks

    @property
    def warnings(self) -> list[Finding]:
        return self.guard.warnings

    @property
    def outcome(self) -> str:
        return "blocked" if self.blocked else "approval" if self.approval else "send"

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, **self.guard.to_dict(),
                "approval": self.approval.to_dict() if self.approval else None}


def resolve_channel(session: Session, channel: Channel | str | int | None, case: Case | None) -> Channel | None:
    if isinstance(channel, Channel):
        return channel
    if isinstance(channel, int):
        return session.get(Channel, channel)
    if isinstance(channel, str) and channel:
        found = session.scalar(select(Channel).where(Channel.key == channel))
        if found is None:
            raise NotFound(f"no channel {channel!r}")
        return found
    if case is not None and case.channel_id is not None:
        return session.get(Channel, case.channel_id)
    return None


def guard(session: Session, text: str, channel: Channel | str | int | None = None, case: Case | None = None,
          *, sponsored: bool = False, channel_kind: str | None = None) -> GuardResult:
    """Check an outgoing text against the enabled guard rules for its channel (the case's, when not given)."""
    found = resolve_channel(session, channel, case)
    kind = channel_kind or (found.kind if found else None)
    return GuardResult(check_text(text, channel_kind=kind, rules=active_rules(session), sponsored=sponsored), kind)


def review_outgoing(session: Session, who: Principal, text: str, *, case: Case | None = None,
                    channel: Channel | str | int | None = None, sponsored: bool = False,
                    channel_kind: str | None = None, kind: str | None = None) -> Verdict:
    """Guard + risk-based approval for one outgoing text by `who` (a reply on `case` or a post on `channel`;
    `channel_kind` alone when checking a draft for a kind of channel). `kind` ("reply" or "post") is what the
    approval rules' `kinds` condition sees; by default a reply when there is a case, else a post."""
    found = resolve_channel(session, channel, case)
    result = guard(session, text, found, case, sponsored=sponsored, channel_kind=channel_kind)
    if result.blocked:
        return Verdict(result, None, sponsored)
    return Verdict(result, approval_needed(session, text, case, who, result.findings, channel=found, kind=kind),
                   sponsored)
