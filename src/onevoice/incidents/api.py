"""JSON routes for incidents: list (`cases:read`), close and reopen by hand (`messages:write`).

Roles are checked in the service (incidents.service).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.db import unit_of_work
from onevoice.incidents import service as incidents
from onevoice.incidents.schemas import IncidentChange, Incidents
from onevoice.process import Runtime
from onevoice.web.deps import api_principal, get_read_session, get_runtime, require_scope
from onevoice.web.params import RowId
from onevoice.web.responses import AUTH_ERRORS, CONFLICT, RECORD_ERRORS

router = APIRouter(prefix="/api/v1", tags=["routing"])


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


class ReasonIn(BaseModel):
    reason: str = Field("", max_length=2000)


@router.get("/incidents", response_model=Incidents, responses=AUTH_ERRORS,
            dependencies=[Depends(require_scope("cases:read"))])
def list_incidents(status: str | None = Query(None, description="open or closed"),
                   who: Principal = Depends(api_principal), session: Session = Depends(get_read_session)):
    """Incidents with status, duration and how many cases they link; open ones first."""
    return Incidents(items=incidents.list_incidents(session, who, status))


@router.post("/incidents/{incident_id}/close", response_model=IncidentChange,
             responses={**RECORD_ERRORS, **CONFLICT},
             dependencies=[Depends(require_scope("messages:write"))])
def close_incident(incident_id: RowId, request: Request, body: ReasonIn | None = None,
                   who: Principal = Depends(api_principal), runtime: Runtime = Depends(get_runtime)):
    reason = body.reason if body else ""
    return _incident_change(runtime, lambda s: incidents.close_by_hand(s, who, incident_id, reason, _ip(request)))


@router.post("/incidents/{incident_id}/reopen", response_model=IncidentChange,
             responses={**RECORD_ERRORS, **CONFLICT},
             dependencies=[Depends(require_scope("messages:write"))])
def reopen_incident(incident_id: RowId, request: Request, body: ReasonIn | None = None,
                    who: Principal = Depends(api_principal), runtime: Runtime = Depends(get_runtime)):
    reason = body.reason if body else ""
    return _incident_change(runtime, lambda s: incidents.reopen_by_hand(s, who, incident_id, reason, _ip(request)))


def _incident_change(runtime: Runtime, change) -> dict:
    """Commit, then publish the live update (never before: a rolled-back change must not be announced)."""
    with unit_of_work(runtime.session_factory) as session:
        live = change(session)
    runtime.broker.publish([live])
    return live
