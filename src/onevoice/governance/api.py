"""JSON routes for governance: the policy guard, guard and approval rules, the audit log, the policy.

Authenticated with a bearer token. A token created for a user acts as that user (their role decides);
an operator token (no user, from `onevoice token create`) acts as an admin. The services check roles.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.audit.schemas import AuditPage
from onevoice.auth.models import ApiToken
from onevoice.auth.principal import Principal
from onevoice.cases.access import visible_case
from onevoice.errors import NotFound
from onevoice.governance import approval_rules, guard_rules, policy
from onevoice.governance.review import review_outgoing
from onevoice.governance.schemas import (
    Acknowledged,
    ApprovalRuleOut,
    ApprovalRules,
    AuditVerification,
    CheckOut,
    GuardRuleOut,
    GuardRules,
    PolicyCurrent,
    PolicyStatus,
    PolicyVersionOut,
    TrainingDone,
    TrainingModuleOut,
)
from onevoice.web.deps import get_read_session, get_session, principal_from_token, require_token, scope_allows
from onevoice.web.params import RowCursor, RowId
from onevoice.web.responses import AUTH_ERRORS, CONFLICT, NOT_FOUND

router = APIRouter(prefix="/api/v1", tags=["governance"])


def token_principal(request: Request, token: ApiToken = Depends(require_token),
                    session: Session = Depends(get_read_session)) -> Principal:
    path, reading = request.url.path, request.method == "GET"
    if path.startswith("/api/v1/audit"):
        needed = "audit:read"
    elif path.startswith("/api/v1/tokens"):
        # Its own family: `governance:write` (rules, policy) must not be a way to mint a `*` token.
        needed = "tokens:read" if reading else "tokens:write"
    else:
        needed = "governance:read" if reading or path.endswith("/guard/check") else "governance:write"
    if not scope_allows(token.scopes, needed):
        raise HTTPException(403, f"this token lacks the scope {needed!r}")
    return principal_from_token(session, token)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


class CheckIn(BaseModel):
    text: str = Field(max_length=100_000)
    channel: str | None = Field(None, description="channel key; its kind picks the length limit")
    channel_kind: str | None = Field(None, description="connector kind (x, mastodon...) when no channel is given")
    case_id: RowId | None = Field(None, description="the case a reply answers: adds the approval decision")
    sponsored: bool = False


@router.post("/guard/check", response_model=CheckOut, responses={**AUTH_ERRORS, **NOT_FOUND})
def guard_check(body: CheckIn, who: Principal = Depends(token_principal),
                session: Session = Depends(get_read_session)):
    """Findings for a text (each with rule, severity, message, start/end, match), whether it is blocked,
    and which team would have to approve it."""
    case = visible_case(session, who, body.case_id) if body.case_id is not None else None
    return review_outgoing(session, who, body.text, case=case, channel=body.channel, channel_kind=body.channel_kind,
                           sponsored=body.sponsored).to_dict()


class GuardRuleIn(BaseModel):
    key: str | None = None
    name: str | None = None
    kind: Literal["terms", "pii", "disclosure", "length", "tone"] | None = None
    severity: Literal["block", "approval", "warn"] | None = None
    terms: list[str] | None = None
    params: dict | None = None
    channel_kinds: list[str] | None = None
    enabled: bool | None = None


@router.get("/guard/rules", response_model=GuardRules, responses=AUTH_ERRORS)
def list_guard_rules(_who: Principal = Depends(token_principal), session: Session = Depends(get_read_session)):
    return GuardRules(items=[GuardRuleOut.model_validate(r) for r in guard_rules.list_rules(session)])


@router.post("/guard/rules", status_code=201, response_model=GuardRuleOut,
             responses={**AUTH_ERRORS, **CONFLICT})
def create_guard_rule(body: GuardRuleIn, request: Request, who: Principal = Depends(token_principal),
                      session: Session = Depends(get_session)):
    rule = guard_rules.create_rule(session, who, body.model_dump(exclude_none=True), client_ip(request))
    return rule


@router.patch("/guard/rules/{rule_id}", response_model=GuardRuleOut,
              responses={**AUTH_ERRORS, **NOT_FOUND, **CONFLICT})
def update_guard_rule(rule_id: RowId, body: GuardRuleIn, request: Request, who: Principal = Depends(token_principal),
                      session: Session = Depends(get_session)):
    rule = guard_rules.update_rule(session, who, rule_id, body.model_dump(exclude_none=True), client_ip(request))
    return rule


class ApprovalRuleIn(BaseModel):
    name: str | None = None
    position: int | None = None
    enabled: bool | None = None
    channels: list[str] | None = None
    channel_kinds: list[str] | None = None
    intents: list[str] | None = None
    priorities: list[str] | None = None
    severities: list[str] | None = None
    finding_rules: list[str] | None = None
    author_roles: list[str] | None = None
    kinds: list[str] | None = None  # reply, post
    partner: bool | None = None
    first_time_author: bool | None = None
    playbook_requires: bool | None = None
    approver_team: str | None = None
    sla_minutes: int | None = None
    escalation_team: str | None = None


@router.get("/approval-rules", response_model=ApprovalRules, responses=AUTH_ERRORS)
def list_approval_rules(_who: Principal = Depends(token_principal), session: Session = Depends(get_read_session)):
    return {"items": [approval_rules.describe(session, r) for r in approval_rules.list_rules(session)],
            "waiting": approval_rules.waiting_stats(session)}


@router.post("/approval-rules", status_code=201, response_model=ApprovalRuleOut,
             responses=AUTH_ERRORS)
def create_approval_rule(body: ApprovalRuleIn, request: Request, who: Principal = Depends(token_principal),
                         session: Session = Depends(get_session)):
    rule = approval_rules.create_rule(session, who, body.model_dump(exclude_unset=True), client_ip(request))
    return approval_rules.describe(session, rule)


@router.patch("/approval-rules/{rule_id}", response_model=ApprovalRuleOut,
              responses={**AUTH_ERRORS, **NOT_FOUND})
def update_approval_rule(rule_id: RowId, body: ApprovalRuleIn, request: Request,
                         who: Principal = Depends(token_principal), session: Session = Depends(get_session)):
    rule = approval_rules.update_rule(session, who, rule_id, body.model_dump(exclude_unset=True), client_ip(request))
    return approval_rules.describe(session, rule)


@router.get("/audit", response_model=AuditPage, responses=AUTH_ERRORS)
def audit_list(since: datetime | None = None, until: datetime | None = None, action: str | None = None,
               actor: str | None = None, target: str | None = None, before: RowCursor | None = None,
               limit: int = Query(100, ge=1, le=1000), who: Principal = Depends(token_principal),
               session: Session = Depends(get_read_session)):
    """Newest first; page with `before` = the previous page's `next`. Admins only."""
    return audit.search(session, who, since=since, until=until, action=action, actor=actor, target=target,
                        before_seq=before, limit=limit)


@router.get("/audit/verify", response_model=AuditVerification, responses=AUTH_ERRORS)
def audit_verify(who: Principal = Depends(token_principal), session: Session = Depends(get_read_session)):
    audit.require_auditor(who)
    result = audit.verify(session)
    newest = result.newest_checkpoint
    return {"ok": result.ok, "checked": result.checked, "head_hash": result.head_hash,
            "broken_seq": result.broken_seq, "reason": result.reason, "sealed_from": result.sealed_from,
            "checkpoints": result.checkpoints, "newest_checkpoint": newest and {"seq": newest.seq, "at": newest.at},
            "findings": result.findings()}


def export_response(runtime_factory, who: Principal, fmt: str, filters: dict, ip: str | None) -> StreamingResponse:
    """Record the export, then stream it from a read-only session that lives as long as the response."""
    with runtime_factory["write"]() as session:
        audit.require_auditor(who)
        audit.record_export(session, who, fmt, {k: str(v) for k, v in filters.items() if v}, ip)
        session.commit()

    def lines():
        with runtime_factory["read"]() as session:
            yield from audit.export_lines(session, fmt, **filters)

    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(lines(), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="onevoice-audit-{stamp}.{fmt}"'})


@router.get("/audit/export", responses={**AUTH_ERRORS, 200: {
    "description": "the records, one JSON object a line (jsonl) or CSV",
    "content": {"application/x-ndjson": {}, "text/csv": {}}}})
def audit_export(request: Request, format: Literal["jsonl", "csv"] = "jsonl", since: datetime | None = None,
                 until: datetime | None = None, action: str | None = None, actor: str | None = None,
                 who: Principal = Depends(token_principal)):
    runtime = request.app.state.runtime
    return export_response({"write": runtime.session_factory, "read": runtime.read_factory}, who, format,
                           {"since": since, "until": until, "action": action, "actor": actor}, client_ip(request))


class PolicyIn(BaseModel):
    title: str
    body: str
    summary: str = ""


@router.get("/policy", response_model=PolicyCurrent, responses={**AUTH_ERRORS, **NOT_FOUND})
def policy_current(who: Principal = Depends(token_principal), session: Session = Depends(get_read_session)):
    version = policy.current_version(session)
    if version is None:
        raise NotFound("no policy has been published yet")
    ack = policy.acknowledged(session, who.user_id, version.id) if who.user_id else None
    out = PolicyCurrent.model_validate(version)
    out.acknowledged_at = ack
    out.training = [TrainingModuleOut.model_validate(m) for m in policy.list_modules(session)]
    return out


@router.post("/policy/versions", status_code=201, response_model=PolicyVersionOut,
             responses=AUTH_ERRORS)
def policy_publish(body: PolicyIn, request: Request, who: Principal = Depends(token_principal),
                   session: Session = Depends(get_session)):
    return policy.publish(session, who, body.title, body.body, body.summary, client_ip(request))


@router.post("/policy/versions/{version_id}/acknowledge", response_model=Acknowledged,
             responses={**AUTH_ERRORS, **NOT_FOUND})
def policy_acknowledge(version_id: RowId, request: Request, who: Principal = Depends(token_principal),
                       session: Session = Depends(get_session)):
    ack = policy.acknowledge(session, who, version_id, client_ip(request))
    return {"version_id": version_id, "acknowledged_at": ack.acknowledged_at}


@router.get("/policy/status", response_model=PolicyStatus, responses=AUTH_ERRORS)
def policy_status(who: Principal = Depends(token_principal), session: Session = Depends(get_read_session)):
    """Managers: their teams; coordinators and admins: everyone."""
    return policy.team_status(session, who)


@router.post("/training/{module_id}/complete", response_model=TrainingDone,
             responses={**AUTH_ERRORS, **NOT_FOUND})
def training_complete(module_id: RowId, request: Request, who: Principal = Depends(token_principal),
                      session: Session = Depends(get_session)):
    done = policy.complete_module(session, who, module_id, client_ip(request))
    return {"module_id": module_id, "completed_at": done.completed_at}

