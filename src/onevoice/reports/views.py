"""The /reports pages: the manager and executive views, the cases behind a figure, CSV exports, objectives."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from onevoice.channels.service import channel_labels
from onevoice.db import unit_of_work, utcnow
from onevoice.errors import InvalidInput
from onevoice.process import Runtime
from onevoice.reports import charts, exports, objectives, service
from onevoice.reports.links import cases_path, query
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user
from onevoice.web.templating import render

router = APIRouter()
FILTERS = ("start", "end", "team", "channel", "product", "tag", "hourly_rate")


def _filters(request: Request) -> dict:
    q = request.query_params
    out: dict = {k: (q.get(k) or "").strip() or None for k in FILTERS}
    try:
        for k in ("start", "end"):
            out[k] = date.fromisoformat(out[k]) if out[k] else None
        out["hourly_rate"] = float(out["hourly_rate"]) if out["hourly_rate"] else None
    except ValueError as exc:
        raise InvalidInput(f"unreadable filter: {exc}") from exc
    return out


# Figures older than this say so on the page (the upkeep runs every 10 s; during a surge it waits up to a minute).
BEHIND = timedelta(minutes=2)


@router.get("/reports")
def reports_page(request: Request, viewer: Viewer = Depends(current_user),
                 session: Session = Depends(get_read_session), runtime: Runtime = Depends(get_runtime)):
    who = viewer.principal
    filters = _filters(request)
    scope = service.make_scope(session, who, **filters)
    data = service.report(session, who, scope)
    view = request.query_params.get("view") or ("manager" if who.role == "manager" else "executive")
    shown = {**filters, "start": scope.start, "end": scope.end}
    q = query(shown)
    daily = data["daily"]
    ctx = {"r": data, "view": view if view in ("manager", "executive") else "executive", "filters": shown, "q": q,
           "behind": data["as_of"] is not None and utcnow() - data["as_of"] > BEHIND,
           "teams": service.team_names(session), "can_set": who.role in ("admin", "coordinator", "manager"),
           "channels": channel_labels(session), "currency": runtime.settings.currency,
           "metrics_choice": [(k, f.label, objectives.UNITS[f.kind]) for k, f in objectives.FIGURES.items()],
           "objectives": [objectives.described(o) for o in data["objectives"]],
           "cases_chart": charts.bars([(d["day"][5:], d["cases"],
                                        cases_path(shown, 'day:' + d['day'])) for d in daily]),
           "sentiment_chart": charts.line([(d["day"][5:], d["net_sentiment"],
                                            cases_path(shown, 'day:' + d['day']))
                                           for d in daily]),
           "intent_chart": charts.bars([(v["key"] or "none", v["cases"],
                                         cases_path(shown, 'intent:' + (v['key'] or 'none')))
                                        for v in data["volume"]["intent"]]),
           "done": request.query_params.get("done")}
    return render(request, "reports/page.html", ctx)


@router.get("/reports/cases")
def cases_page(request: Request, viewer: Viewer = Depends(current_user),
               session: Session = Depends(get_read_session)):
    filters = _filters(request)
    figure = (request.query_params.get("figure") or "cases")[:80]
    scope = service.make_scope(session, viewer.principal, **filters)
    rows = service.cases_behind(session, viewer.principal, scope, figure)
    shown = {**filters, "start": scope.start, "end": scope.end}
    return render(request, "reports/cases.html", {"rows": rows, "figure": figure, "filters": shown,
                                                  "q": query(shown, figure=figure), "back": query(shown)})


@router.get("/reports/cases.csv")
def cases_csv(request: Request, viewer: Viewer = Depends(current_user), session: Session = Depends(get_read_session)):
    filters = _filters(request)
    figure = (request.query_params.get("figure") or "cases")[:80]
    scope = service.make_scope(session, viewer.principal, **filters)
    rows = service.cases_behind(session, viewer.principal, scope, figure, limit=100_000)
    return _csv(exports.to_csv(rows), "cases")


@router.get("/reports/export/{table}.csv")
def table_csv(table: str, request: Request, viewer: Viewer = Depends(current_user),
              session: Session = Depends(get_read_session)):
    scope = service.make_scope(session, viewer.principal, **_filters(request))
    return _csv(exports.to_csv(service.table(session, viewer.principal, scope, table)), table)


@router.get("/reports/static/reports.css")
def _css():
    return FileResponse(Path(__file__).parent / "static" / "reports.css", media_type="text/css")


def _csv(body: str, name: str) -> Response:
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="onevoice-{name}.csv"'})


@router.post("/reports/objectives")
async def set_objective(request: Request, runtime: Runtime = Depends(get_runtime),
                        viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    metric = str(form.get("metric") or "")
    try:
        typed = float(str(form.get("target") or ""))
    except ValueError as exc:
        raise InvalidInput("the target is a number") from exc
    target = objectives.from_form(metric, typed)  # hours and percent, as the form asks for them
    with unit_of_work(runtime.session_factory) as session:
        service.set_objective(session, viewer.principal, str(form.get("team") or "") or None,
                              metric, str(form.get("comparator") or ""), target)
    return RedirectResponse("/reports?done=objective#obj-h", status_code=303)


@router.post("/reports/objectives/{objective_id}/delete")
def remove_objective(objective_id: int, runtime: Runtime = Depends(get_runtime),
                     viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        service.remove_objective(session, viewer.principal, objective_id)
    return RedirectResponse("/reports?done=objective-removed#obj-h", status_code=303)
