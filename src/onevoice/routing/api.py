"""JSON routes for playbooks (versions, validate, dry run, save, activate, learned rules).

Playbooks need a token with `governance:read` / `governance:write` and a coordinator or admin behind it
(operator tokens act as admins). Roles are checked in the services.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.process import Runtime
from onevoice.routing import promote, service
from onevoice.routing.schemas import (
    DryRun,
    LearnedRuleOut,
    LearnedRules,
    PlaybookOut,
    Playbooks,
    Promoted,
    Validation,
)
from onevoice.web.deps import api_principal, get_read_session, get_runtime, get_session, require_scope
from onevoice.web.params import RowId
from onevoice.web.responses import AUTH_ERRORS, RECORD_ERRORS

router = APIRouter(prefix="/api/v1", tags=["routing"])
READ = [Depends(require_scope("governance:read"))]
WRITE = [Depends(require_scope("governance:write"))]


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


class SourceIn(BaseModel):
    source: str = Field(max_length=200_000)


class SaveIn(SourceIn):
    note: str = Field("", max_length=2000)
    activate: bool = False


class DryRunIn(BaseModel):
    text: str = Field(max_length=40_000)
    source: str | None = Field(None, max_length=200_000, description="a draft; the active playbook if omitted")
    channel: str | None = None
    kind: str = "mention"
    followers: int = Field(0, ge=0)
    vip: bool = False
    prior_messages: int = Field(0, ge=0)
    at: datetime | None = Field(None, description="when the message arrives (business hours); now if omitted")


class LearnedIn(BaseModel):
    intent: str
    subject: str = ""
    channel_kind: str = ""
    team: str


@router.get("/playbooks", response_model=Playbooks, responses=AUTH_ERRORS, dependencies=READ)
def playbooks(who: Principal = Depends(api_principal), session: Session = Depends(get_read_session)):
    """The active playbook (with its YAML) and every stored version."""
    return {"active": service.active(session, who), "versions": service.versions(session, who)}


@router.get("/playbooks/learned", response_model=LearnedRules, responses=AUTH_ERRORS,
            dependencies=READ)
def learned(who: Principal = Depends(api_principal), session: Session = Depends(get_read_session)):
    """Rules learned from team corrections, applied after the playbook until promoted or dismissed."""
    return {"items": promote.list_learned(session, who)}


@router.get("/playbooks/{playbook_id}", response_model=PlaybookOut, responses=RECORD_ERRORS,
            dependencies=READ)
def playbook(playbook_id: RowId, who: Principal = Depends(api_principal),
             session: Session = Depends(get_read_session)):
    return service.get_version(session, who, playbook_id)


@router.post("/playbooks/validate", response_model=Validation, responses=AUTH_ERRORS,
             dependencies=READ)
def validate(body: SourceIn, who: Principal = Depends(api_principal), session: Session = Depends(get_read_session)):
    """Every problem of a draft with its line; `valid` when there is none. Nothing is stored."""
    problems = service.validate(session, who, body.source)
    return {"valid": not problems, "problems": [p.to_dict() for p in problems]}


@router.post("/playbooks/dry-run", response_model=DryRun, responses=AUTH_ERRORS,
             dependencies=READ)
def dry_run(body: DryRunIn, who: Principal = Depends(api_principal), session: Session = Depends(get_read_session),
            runtime: Runtime = Depends(get_runtime)):
    """Triage a sample text and route it with the draft: the decision, the rules that fired and why, and
    what the active playbook decides for comparison."""
    return service.dry_run(session, who, runtime.processor.triager, body.text, source=body.source,
                           channel=body.channel, kind=body.kind, followers=body.followers, vip=body.vip,
                           prior_messages=body.prior_messages, at=body.at)


@router.post("/playbooks", status_code=201, response_model=PlaybookOut,
             responses=AUTH_ERRORS, dependencies=WRITE)
def save(body: SaveIn, request: Request, who: Principal = Depends(api_principal),
         session: Session = Depends(get_session)):
    """Save a valid draft as the next version (422 with each problem's line otherwise); `activate` switches
    it on at once."""
    return service.save(session, who, body.source, body.note, body.activate, _ip(request))


@router.post("/playbooks/{playbook_id}/activate", response_model=PlaybookOut,
             responses=RECORD_ERRORS, dependencies=WRITE)
def activate(playbook_id: RowId, request: Request, who: Principal = Depends(api_principal),
             session: Session = Depends(get_session)):
    """Switch a stored version on (an earlier one: a rollback). Workers follow within seconds."""
    return service.activate_version(session, who, playbook_id, _ip(request))


@router.post("/playbooks/learned/promote", response_model=Promoted,
             responses=RECORD_ERRORS, dependencies=WRITE)
def promote_learned(body: LearnedIn, request: Request, who: Principal = Depends(api_principal),
                    session: Session = Depends(get_session)):
    return promote.promote(session, who, body.intent, body.subject, body.channel_kind, body.team, _ip(request))


@router.post("/playbooks/learned/dismiss", response_model=LearnedRuleOut,
             responses=RECORD_ERRORS, dependencies=WRITE)
def dismiss_learned(body: LearnedIn, request: Request, who: Principal = Depends(api_principal),
                    session: Session = Depends(get_session)):
    return promote.dismiss(session, who, body.intent, body.subject, body.channel_kind, body.team, _ip(request))
