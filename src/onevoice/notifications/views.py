"""/me/notifications: a person's subscriptions (weekly digest, incident and SLA alerts, alerts by email), and
for coordinators and admins the SLA alert thresholds (first response, resolution), recent alerts and the mail
queue's health."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from onevoice.db import unit_of_work
from onevoice.errors import InvalidInput
from onevoice.notifications import service
from onevoice.notifications.audience import RULE_ROLES
from onevoice.notifications.figures import SLA_FIGURES
from onevoice.process import Runtime
from onevoice.teams.service import teams_by_name
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user
from onevoice.web.templating import render

router = APIRouter()
DONE = {"saved": "Your notifications are saved.", "rule": "The alert threshold is saved."}


@router.get("/me/notifications")
def settings_page(request: Request, viewer: Viewer = Depends(current_user),
                  session: Session = Depends(get_read_session)):
    who = viewer.principal
    oversee = who.role in RULE_ROLES
    runtime: Runtime = request.app.state.runtime
    return render(request, "notifications/settings.html", {
        "prefs": service.preferences(session, who), "mail": service.my_mail(session, who),
        "rules": service.list_rules(session) if oversee else [],
        "alerts": service.recent_alerts(session) if oversee else [],
        "health": service.mail_health(session) if oversee else {},
        "teams": teams_by_name(session) if oversee else [], "figures": SLA_FIGURES,
        "smtp": bool(runtime.settings.smtp_host), "hour": runtime.settings.digest_hour_utc,
        "done": DONE.get(request.query_params.get("done") or "")})


@router.post("/me/notifications")
async def save(request: Request, runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    flags = {name: form.get(name) == "1" for name in service.FLAGS}
    with unit_of_work(runtime.session_factory) as session:
        service.save_preferences(session, viewer.principal, **flags)
    return RedirectResponse("/me/notifications?done=saved", status_code=303)


@router.post("/me/notifications/rules")
async def save_rule(request: Request, runtime: Runtime = Depends(get_runtime),
                    viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    try:
        threshold, days = float(str(form.get("threshold") or "")), int(str(form.get("days") or "7"))
    except ValueError as exc:
        raise InvalidInput("the threshold is a percentage and the window a number of days") from exc
    with unit_of_work(runtime.session_factory) as session:
        service.set_rule(session, viewer.principal, str(form.get("team") or "") or None, threshold, days,
                         enabled=form.get("enabled") == "1", metric=str(form.get("metric") or "first_response_sla"))
    return RedirectResponse("/me/notifications?done=rule", status_code=303)
