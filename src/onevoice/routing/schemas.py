"""What the playbooks API answers (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onevoice.jsontypes import IsoTime, Timestamp
from onevoice.triage.schemas import TriageOut


class PlaybookVersion(BaseModel):
    """Read straight off a stored playbook row (`model_validate(row)`)."""

    model_config = ConfigDict(from_attributes=True)

    id: int | None = Field(description="null for the packaged default (before the first save)")
    name: str
    version: int
    active: bool
    note: str | None
    updated_by: str | None
    updated_at: Timestamp | None
    activated_at: Timestamp | None
    activated_by: str | None


class PlaybookOut(PlaybookVersion):
    source: str = Field(description="the playbook's YAML")


class Playbooks(BaseModel):
    active: PlaybookOut
    versions: list[PlaybookVersion]


class ProblemLine(BaseModel):
    line: int | None = Field(description="1-based; null when the problem is the whole text")
    message: str


class Validation(BaseModel):
    valid: bool
    problems: list[ProblemLine]


class DecisionOut(BaseModel):
    lead_team: str | None
    collaborators: list[str]
    priority: str
    sla_policy: str | None
    sla_due_at: Timestamp | None
    tags: list[str]
    requires_approval: bool
    close_as_spam: bool
    rules: list[dict[str, Any]] = Field(description="each rule that fired: {rule, why}")
    playbook_version: str | None
    reason: str


class DryRun(BaseModel):
    triage: TriageOut
    decision: DecisionOut = Field(description="what the draft decides")
    active_decision: DecisionOut = Field(description="what the active playbook decides, for comparison")
    active_version: str


class LearnedRuleOut(BaseModel):
    name: str
    intent: str | None
    subject: str | None
    channel_kind: str | None
    team: str
    corrections: int
    actors: list[str]
    from_teams: list[str]
    message_ids: list[int]
    last_at: IsoTime | None
    why: str
    yaml: str = Field(description="the playbook rule that says the same (what promote inserts)")


class LearnedRules(BaseModel):
    items: list[LearnedRuleOut]


class Promoted(BaseModel):
    playbook: PlaybookOut = Field(description="the new active version, the rule first")
    rule: LearnedRuleOut
