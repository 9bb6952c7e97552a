"""JSON routes: a person's export and erasure (admins), retention rules and runs (admins, coordinators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.governance.api import client_ip
from onevoice.privacy import access, erasure, retention
from onevoice.privacy.schemas import (
    ContactExport,
    Erased,
    RetentionRuleOut,
    RetentionRules,
    RetentionRunOut,
    RetentionRuns,
)
from onevoice.process import Runtime
from onevoice.web.deps import api_principal, get_read_session, get_runtime, get_session, require_scope
from onevoice.web.params import RowId
from onevoice.web.responses import AUTH_ERRORS, CONFLICT, RECORD_ERRORS

router = APIRouter(prefix="/api/v1", tags=["privacy"])
Reference = Annotated[str, Body(embed=True, max_length=100,
                                description="the request's own number (a ticket), never the person's name")]


@router.post("/privacy/contacts/{contact_id}/export", response_model=ContactExport,
             responses={**RECORD_ERRORS, **CONFLICT}, dependencies=[Depends(require_scope("contacts:read"))])
def export(contact_id: RowId, request: Request, reference: Reference = "", who: Principal = Depends(api_principal),
           runtime: Runtime = Depends(get_runtime), session: Session = Depends(get_session)):
    """Everything held about a contact (admins). Recorded as an access request and in the audit log."""
    # Before the session's first statement (its transaction begins there): deliveries just received are stored.
    waiting = erasure.store_received(runtime.journal, runtime.ingest)
    return access.export(session, who, contact_id, reference, client_ip(request), waiting=waiting)


@router.post("/privacy/contacts/{contact_id}/erase", response_model=Erased,
             responses={**RECORD_ERRORS, **CONFLICT}, dependencies=[Depends(require_scope("contacts:write"))])
def erase(contact_id: RowId, request: Request, reference: Reference = "",
          who: Principal = Depends(api_principal), runtime: Runtime = Depends(get_runtime)):
    """Erase a contact's personal data everywhere (admins); answers the request's counts."""
    return erasure.erase_contact(runtime.session_factory, runtime.read_factory, who, contact_id, reference,
                                 client_ip(request), journal=runtime.journal, ingest=runtime.ingest)


class RuleIn(BaseModel):
    channel: str | None = Field(None, max_length=64, description="channel key; empty: every channel")
    kind: str | None = Field(None, max_length=20, description="post, comment, mention, direct, review; empty: all")
    days: int = Field(ge=1, le=retention.MAX_DAYS)
    action: str = Field("anonymize", description="anonymize (keep the figures) or delete")
    enabled: bool = True


def _owner(who: Principal = Depends(api_principal)) -> Principal:
    retention.require_retention_owner(who)
    return who


@router.get("/retention/rules", response_model=RetentionRules, responses=AUTH_ERRORS,
            dependencies=[Depends(require_scope("governance:read"))])
def rules(who: Principal = Depends(_owner), session: Session = Depends(get_read_session)):
    return RetentionRules(items=retention.list_rules(session))


@router.post("/retention/rules", response_model=RetentionRuleOut, responses=AUTH_ERRORS,
             dependencies=[Depends(require_scope("governance:write"))])
def set_rule(body: RuleIn, request: Request, who: Principal = Depends(_owner),
             session: Session = Depends(get_session)):
    """Create or replace the rule for (channel, kind)."""
    return retention.set_rule(session, who, body.channel, body.kind, body.days, body.action, body.enabled,
                              client_ip(request))


@router.delete("/retention/rules/{rule_id}", status_code=204, responses=RECORD_ERRORS,
               dependencies=[Depends(require_scope("governance:write"))])
def remove_rule(rule_id: RowId, request: Request, who: Principal = Depends(_owner),
                session: Session = Depends(get_session)):
    retention.remove_rule(session, who, rule_id, client_ip(request))


@router.get("/retention/runs", response_model=RetentionRuns, responses=AUTH_ERRORS,
            dependencies=[Depends(require_scope("governance:read"))])
def runs(who: Principal = Depends(_owner), session: Session = Depends(get_read_session)):
    """The latest runs: when, by whom, how many messages were anonymized or deleted."""
    return RetentionRuns(items=[RetentionRunOut.model_validate(r) for r in retention.runs(session)])
