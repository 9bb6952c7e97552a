"""JSON routes for advocacy: the customer ranking (scope contacts:read; a token acts as its user)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from onevoice.advocacy import service
from onevoice.advocacy.schemas import AdvocacyOverview
from onevoice.auth.principal import Principal
from onevoice.web.deps import api_principal, get_read_session, require_scope, require_token
from onevoice.web.responses import AUTH_ERRORS

router = APIRouter(prefix="/api/v1/advocates", tags=["advocacy"], dependencies=[Depends(require_token)])


@router.get("", response_model=AdvocacyOverview, responses=AUTH_ERRORS,
            dependencies=[Depends(require_scope("contacts:read"))])
def advocates(limit: int = Query(50, ge=1, le=1000), who: Principal = Depends(api_principal),
              session: Session = Depends(get_read_session)):
    """Advocates and detractors ranked (positive messages, recommendations, reach, recency, across every
    identity), who moved between them in the last 30 days, and the marked customers."""
    return service.overview(session, who, limit=limit)
