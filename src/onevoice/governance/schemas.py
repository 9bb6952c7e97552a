"""What the governance API answers (response models: the OpenAPI document describes them): the guard, guard
and approval rules, the audit log, the policy, tokens, sessions, partners' grants, accounts and users."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onevoice.jsontypes import IsoTime, JsonTimestamp, Timestamp


class FindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule: str
    kind: str
    severity: str = Field(description="block, approval or warn")
    message: str
    start: int | None = Field(description="where the match starts in the text")
    end: int | None
    match: str | None


class ApprovalNeeded(BaseModel):
    reason: str
    team: str | None = Field(description="the approving team's key; null: any approver")
    sla_minutes: int
    due_at: Timestamp
    escalation_team: str | None
    rule_id: int | None
    rule: str | None


class CheckOut(BaseModel):
    outcome: str = Field(description="send, approval or blocked")
    blocked: bool
    needs_approval: bool
    channel_kind: str | None
    findings: list[FindingOut]
    approval: ApprovalNeeded | None = Field(description="who must approve it, when a rule asks for approval")


class GuardRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: str | None
    kind: str
    severity: str
    terms: list[str] | None
    params: dict[str, Any] | None
    channel_kinds: list[str] | None
    enabled: bool
    updated_by: str | None
    updated_at: Timestamp | None


class GuardRules(BaseModel):
    items: list[GuardRuleOut]


class ApprovalRuleOut(BaseModel):
    """An approval rule with its teams' keys (`approval_rules.describe`); its `model_dump()` is also the data
    of the rule's audit records."""

    id: int
    name: str | None
    position: int
    enabled: bool
    kinds: list[str]
    channels: list[str]
    channel_kinds: list[str]
    intents: list[str]
    priorities: list[str]
    severities: list[str]
    finding_rules: list[str]
    author_roles: list[str]
    partner: bool | None
    first_time_author: bool | None
    playbook_requires: bool | None
    approver_team: str | None
    sla_minutes: int | None
    escalation_team: str | None
    updated_by: str | None
    updated_at: JsonTimestamp | None


class Waiting(BaseModel):
    decided: int = Field(description="texts decided in the last 30 days")
    median_minutes: float | None
    p90_minutes: float | None
    decided_late: int
    pending: int
    oldest_pending_minutes: float | int | None
    pending_overdue: int = Field(description="pending past their due time")


class ApprovalRules(BaseModel):
    items: list[ApprovalRuleOut]
    waiting: Waiting


class CheckpointBrief(BaseModel):
    seq: int
    at: IsoTime


class AuditVerification(BaseModel):
    ok: bool
    checked: int
    head_hash: str
    broken_seq: int | None
    reason: str | None
    sealed_from: int | None
    checkpoints: int
    newest_checkpoint: CheckpointBrief | None
    findings: list[str] = Field(description="what the verification proved and what it did not, in sentences")


class PolicyVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    title: str
    summary: str
    body: str
    published_by: str | None
    published_at: Timestamp


class TrainingModuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    title: str
    body: str
    minutes: int | None
    active: bool


class PolicyCurrent(PolicyVersionOut):
    acknowledged_at: Timestamp | None = Field(None, description="when you acknowledged this version")
    training: list[TrainingModuleOut] = []


class Acknowledged(BaseModel):
    version_id: int
    acknowledged_at: Timestamp


class PersonStatus(BaseModel):
    user_id: int
    name: str | None
    email: str
    role: str
    teams: list[str]
    acknowledged_at: Timestamp | None
    last_reminded_at: Timestamp | None
    training_missing: list[str] = Field(description="the titles of the modules still to do")


class PolicyStatus(BaseModel):
    version: int | None
    people: list[PersonStatus]
    not_acknowledged: int
    training_incomplete: int


class TrainingDone(BaseModel):
    module_id: int
    completed_at: Timestamp


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str] | None
    user: str | None = Field(description="the email of the person the token acts as; null: an operator token")
    created_at: Timestamp
    last_used_at: Timestamp | None
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    state: str = Field(description="active, expired or revoked")


class Tokens(BaseModel):
    items: list[TokenOut]


class TokenCreated(TokenOut):
    token: str = Field(description="the secret: shown in this answer only")


class Revoked(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    revoked_at: Timestamp | None


class SignInSession(BaseModel):
    id: int
    user: str
    created_at: Timestamp
    last_seen_at: Timestamp
    expires_at: Timestamp
    ip: str | None
    user_agent: str | None


class SignInSessions(BaseModel):
    items: list[SignInSession]


class PartnerGrants(BaseModel):
    user: str = Field(description="the partner's email")
    channels: list[str]


class Grants(BaseModel):
    items: list[PartnerGrants]


class Granted(BaseModel):
    user: str
    channel: str
    granted: bool = Field(description="false when the partner already had the channel")


class GrantRevoked(BaseModel):
    user: str
    channel: str
    revoked: bool = Field(description="false when the partner did not have the channel")


class AccountApproval(BaseModel):
    rule: str | None
    approver_team: str | None


class AccountOut(BaseModel):
    key: str
    name: str
    kind: str
    enabled: bool
    owner_team: str | None
    may_post: list[str]
    approval_rules: list[AccountApproval]
    health: str
    health_label: str
    health_detail: str | None
    expires_in_days: int | None
    credentials: bool
    last_activity_at: Timestamp | None
    created_at: Timestamp


class Accounts(BaseModel):
    items: list[AccountOut]


class AccountHealth(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str = Field(description="ok, expiring, failing...")
    detail: str | None
    expires_at: IsoTime | None


class UserOut(BaseModel):
    id: int
    email: str
    name: str | None
    role: str
    teams: list[str]
    active: bool
    sessions: int = Field(description="live sign-in sessions")
    tokens: int
    has_password: bool


class Users(BaseModel):
    items: list[UserOut]


class UserActive(BaseModel):
    email: str
    active: bool
