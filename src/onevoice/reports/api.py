"""JSON routes: /api/v1/reports (token scope reports:read; a token acts as its user and sees what they may)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.reports import exports, service
from onevoice.reports.schemas import CaseBehind, ReportOut
from onevoice.web.deps import api_principal, get_read_session, require_scope, require_token
from onevoice.web.responses import AUTH_ERRORS

router = APIRouter(prefix="/api/v1/reports", tags=["reports"],
                   dependencies=[Depends(require_token), Depends(require_scope("reports:read"))])


class Filters:
    """The period and filters every report route takes."""

    def __init__(self, start: date | None = Query(None, description="first day (UTC); default 28 days ago"),
                 end: date | None = Query(None, description="last day, inclusive; default today"),
                 team: str | None = Query(None, max_length=64), channel: str | None = Query(None, max_length=64),
                 product: str | None = Query(None, max_length=200), tag: str | None = Query(None, max_length=100),
                 hourly_rate: float | None = Query(None, ge=0, le=100_000)) -> None:
        self.values = {"start": start, "end": end, "team": team, "channel": channel, "product": product, "tag": tag,
                       "hourly_rate": hourly_rate}


@router.get("", response_model=ReportOut, response_model_by_alias=True, responses=AUTH_ERRORS)
def get_report(filters: Filters = Depends(), who: Principal = Depends(api_principal),
               session: Session = Depends(get_read_session)):
    """Every figure of the manager and executive views for the period, with the previous period's."""
    scope = service.make_scope(session, who, **filters.values)
    return service.report(session, who, scope)


@router.get("/cases", response_model=list[CaseBehind], responses=AUTH_ERRORS)
def cases_behind(figure: str = Query("cases", max_length=80, description="e.g. resolved, reopened, "
                                     "first_response_missed, intent:complaint, team:3, day:2026-11-20"),
                 filters: Filters = Depends(), who: Principal = Depends(api_principal),
                 session: Session = Depends(get_read_session)):
    """The cases a figure counts (at most 500, newest first); subjects only for cases you may open."""
    scope = service.make_scope(session, who, **filters.values)
    return service.cases_behind(session, who, scope, figure)


@router.get("/tables/{table}.csv", response_class=Response,
            responses={**AUTH_ERRORS, 200: {"content": {"text/csv": {}}, "description": "the table as CSV"}})
def table_csv(table: str, filters: Filters = Depends(), who: Principal = Depends(api_principal),
              session: Session = Depends(get_read_session)):
    """One table of the report as CSV (tables: see docs/metrics.md)."""
    scope = service.make_scope(session, who, **filters.values)
    body = exports.to_csv(service.table(session, who, scope, table))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="onevoice-{table}.csv"'})
