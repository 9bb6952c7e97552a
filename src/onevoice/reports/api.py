"""JSON routes: /api/v1/reports (token scope reports:read; a token acts as its user and sees what they may), and its
objectives (reports:write to set or remove one, with the same rules as the page: managers their teams')."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.reports import exports, objectives, service
from onevoice.reports.models import Objective
from onevoice.reports.schemas import CaseBehind, ObjectiveIn, ObjectiveOut, ReportOut
from onevoice.web.deps import api_principal, get_read_session, get_session, require_scope, require_token
from onevoice.web.params import RowId
from onevoice.web.responses import AUTH_ERRORS, RECORD_ERRORS, Problem

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=[Depends(require_token)])
READ, WRITE = Depends(require_scope("reports:read")), Depends(require_scope("reports:write"))
# The table names are listed in the document; the service still answers an unknown one with its own 422 (which
# names the tables), as it did before the document listed them.
TABLE = Path(description="one of the report's tables", json_schema_extra={"enum": list(service.TABLES)})


class Filters:
    """The period and filters every report route takes."""

    def __init__(self, start: date | None = Query(None, description="first day (UTC); default 28 days ago"),
                 end: date | None = Query(None, description="last day, inclusive; default today"),
                 team: str | None = Query(None, max_length=64), channel: str | None = Query(None, max_length=64),
                 product: str | None = Query(None, max_length=200), tag: str | None = Query(None, max_length=100),
                 hourly_rate: float | None = Query(None, ge=0, le=100_000)) -> None:
        self.values = {"start": start, "end": end, "team": team, "channel": channel, "product": product, "tag": tag,
                       "hourly_rate": hourly_rate}


@router.get("", response_model=ReportOut, response_model_by_alias=True, responses=AUTH_ERRORS, dependencies=[READ])
def get_report(filters: Filters = Depends(), who: Principal = Depends(api_principal),
               session: Session = Depends(get_read_session)):
    """Every figure of the manager and executive views for the period, with the previous period's."""
    scope = service.make_scope(session, who, **filters.values)
    return service.report(session, who, scope)


@router.get("/cases", response_model=list[CaseBehind], responses=AUTH_ERRORS, dependencies=[READ])
def cases_behind(figure: str = Query("cases", max_length=80, description="e.g. resolved, reopened, "
                                     "first_response_missed, intent:complaint, team:3, day:2026-11-20"),
                 filters: Filters = Depends(), who: Principal = Depends(api_principal),
                 session: Session = Depends(get_read_session)):
    """The cases a figure counts (at most 500, newest first); subjects only for cases you may open."""
    scope = service.make_scope(session, who, **filters.values)
    return service.cases_behind(session, who, scope, figure)


@router.get("/tables/{table}.csv", response_class=Response, dependencies=[READ],
            responses={**AUTH_ERRORS, 200: {"content": {"text/csv": {}}, "description": "the table as CSV"}})
def table_csv(table: str = TABLE, filters: Filters = Depends(), who: Principal = Depends(api_principal),
              session: Session = Depends(get_read_session)):
    """One table of the report as CSV (tables: see docs/metrics.md)."""
    scope = service.make_scope(session, who, **filters.values)
    body = exports.to_csv(service.table(session, who, scope, table))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="onevoice-{table}.csv"'})


@router.get("/objectives", response_model=list[ObjectiveOut], responses=AUTH_ERRORS, dependencies=[READ])
def list_objectives(who: Principal = Depends(api_principal), session: Session = Depends(get_read_session)):
    """The objectives your reports show (a manager: their teams'); their progress is in the report's objectives."""
    scope, teams = service.make_scope(session, who), service.team_names(session)
    return [_objective_out(teams, o) for o in service.list_objectives(session, scope)]


REFUSED = {422: {"model": Problem, "description": "an unknown team or figure, a target that cannot be met or read"}}


@router.post("/objectives", response_model=ObjectiveOut, status_code=status.HTTP_201_CREATED,
             responses={**AUTH_ERRORS, **REFUSED}, dependencies=[WRITE])
def set_objective(body: ObjectiveIn, who: Principal = Depends(api_principal), session: Session = Depends(get_session)):
    """Set a team's (or the organization's) target on one figure, replacing the one there was. Managers set
    their own teams'; coordinators and admins any, and the organization's."""
    objective = service.set_objective(session, who, body.team, body.metric, body.comparator, body.target)
    return _objective_out(service.team_names(session), objective)


@router.delete("/objectives/{objective_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses=RECORD_ERRORS, dependencies=[WRITE])
def remove_objective(objective_id: RowId, who: Principal = Depends(api_principal),
                     session: Session = Depends(get_session)):
    """Remove an objective (a manager: one of their teams')."""
    service.remove_objective(session, who, objective_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _objective_out(teams: dict[int, dict], o: Objective) -> ObjectiveOut:
    """An objective as the API gives it (`teams`: service.team_names, read once for a list)."""
    described = objectives.described({"metric": o.metric, "comparator": o.comparator, "target": o.target,
                                      "value": None})
    team = teams.get(o.team_id) if o.team_id is not None else None
    return ObjectiveOut(id=o.id, team=team["key"] if team else None, metric=o.metric,
                        label=described["label"], comparator=o.comparator, target=o.target,
                        target_text=described["target_text"], created_by=o.created_by)
