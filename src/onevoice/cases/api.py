"""JSON routes for cases."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.cases import outcome, service
from onevoice.cases.access import partner_case_conditions
from onevoice.cases.schemas import CaseDetail, CasePage
from onevoice.db import unit_of_work
from onevoice.errors import Forbidden
from onevoice.process import Runtime
from onevoice.web.deps import api_principal, get_read_session, get_runtime, require_scope, require_token
from onevoice.web.params import RowId
from onevoice.web.responses import AUTH_ERRORS, NOT_FOUND

router = APIRouter(prefix="/api/v1/cases", tags=["cases"],
                   dependencies=[Depends(require_token), Depends(require_scope("cases:read"))])
# Changes to a case take the scope every case-changing route takes (`messages:write`), not `cases:read`.
outcome_router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


@router.get("", response_model=CasePage, responses=AUTH_ERRORS)
def list_cases(team: str | None = Query(None, description="a team's queue: cases it leads or collaborates on"),
               status: str | None = None, priority: str | None = None, cursor: str | None = None,
               limit: int = Query(50, ge=1, le=200), who: Principal = Depends(api_principal),
               session: Session = Depends(get_read_session)):
    """Everyone's cases for admins and coordinators; anyone else names one of their teams."""
    if not who.sees_all and team not in who.team_keys:
        raise Forbidden(f"name one of your teams: ?team={' or '.join(who.team_keys) or '(you have none)'}")
    return service.list_cases(session, team, status, priority, cursor, limit, where=partner_case_conditions(who))


@router.get("/{case_id}", response_model=CaseDetail, responses={**AUTH_ERRORS, **NOT_FOUND})
def get_case(case_id: RowId, who: Principal = Depends(api_principal), session: Session = Depends(get_read_session)):
    """One case with its messages, customer, routing and history, as far as this token's person may see."""
    return service.read_case(session, who, case_id)


class OutcomeIn(BaseModel):
    """A sales lead's outcome: `won` with its amount (in the organization's currency), `lost`, or `open`."""

    outcome: Literal["open", "won", "lost"]
    amount: float | None = Field(None, gt=0, le=1e12, description="the deal's value; only for won")
    currency: str | None = Field(None, min_length=3, max_length=3, description="ISO 4217 code; the organization's "
                                 "currency (ONEVOICE_CURRENCY) when left out, and it must be that one")


class OutcomeOut(BaseModel):
    case_id: int
    outcome: str
    amount: float | None = None
    currency: str | None = None


@outcome_router.post("/{case_id}/outcome", response_model=OutcomeOut,
                     dependencies=[Depends(require_token), Depends(require_scope("messages:write"))],
                     responses={**AUTH_ERRORS, 403: {"description": "not Sales, a coordinator or an admin"},
                                404: {"description": "no such case, or not one this person may see"},
                                422: {"description": "not a sales lead; a won lead without its amount; "
                                                     "another currency"}})
def set_outcome(case_id: RowId, body: OutcomeIn, who: Principal = Depends(api_principal),
                runtime: Runtime = Depends(get_runtime)):
    """Set a sales lead's outcome (Sales, coordinators and admins; scope `messages:write`). Recorded in the
    case's history as a `case.outcome` event; the reports' leads figures follow within seconds."""
    org = runtime.settings.currency
    with unit_of_work(runtime.session_factory) as session:
        live = outcome.set_outcome(session, who, case_id, body.outcome,
                                   None if body.amount is None else repr(body.amount), body.currency or org,
                                   org_currency=org)
        now = outcome.current_outcome(session, case_id) or {"outcome": "open"}
    runtime.broker.publish([live])
    return {"case_id": case_id, "outcome": now["outcome"], "amount": now.get("amount"),
            "currency": now.get("currency")}
