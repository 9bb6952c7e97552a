"""JSON routes for cases."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from onevoice.cases import service
from onevoice.web.deps import get_read_session, require_token
from onevoice.web.responses import FastJSON

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], dependencies=[Depends(require_token)])


@router.get("", response_class=FastJSON)
def list_cases(team: str | None = Query(None, description="a team's queue: cases it leads or collaborates on"),
               status: str | None = None, priority: str | None = None, cursor: str | None = None,
               limit: int = Query(50, ge=1, le=200), session: Session = Depends(get_read_session)):
    return service.list_cases(session, team, status, priority, cursor, limit)


@router.get("/{case_id}", response_class=FastJSON)
def get_case(case_id: int, session: Session = Depends(get_read_session)):
    return service.get_case(session, case_id)
