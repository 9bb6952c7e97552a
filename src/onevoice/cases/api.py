"""JSON routes for cases."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.cases import service
from onevoice.cases.access import partner_case_conditions
from onevoice.cases.schemas import CaseDetail, CasePage
from onevoice.errors import Forbidden
from onevoice.web.deps import api_principal, get_read_session, require_scope, require_token
from onevoice.web.params import RowId
from onevoice.web.responses import AUTH_ERRORS, NOT_FOUND

router = APIRouter(prefix="/api/v1/cases", tags=["cases"],
                   dependencies=[Depends(require_token), Depends(require_scope("cases:read"))])


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
