"""Governance pages: the social media policy and training, guard rules with a tester, approval rules with
waiting times, and the audit log (admins). Same services as the JSON API; roles are checked there."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.auth.permissions import AUDITORS, POLICY_OWNERS, TEAM_OVERSEERS
from onevoice.channels.service import enabled_channels
from onevoice.db import unit_of_work
from onevoice.governance import approval_rules, guard_rules, policy
from onevoice.governance.api import client_ip, export_response
from onevoice.governance.marks import marked_segments
from onevoice.governance.models import SEVERITIES
from onevoice.governance.review import review_outgoing
from onevoice.process import Runtime
from onevoice.teams.service import team_keys
from onevoice.triage.types import INTENTS
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user
from onevoice.web.templating import render

router = APIRouter(prefix="/governance")
HERE = Path(__file__).parent


@router.get("/static/governance.css")
def _css():
    return FileResponse(HERE / "static" / "governance.css", media_type="text/css")
ROLES = ("admin", "coordinator", "manager", "responder", "contributor", "viewer", "partner")


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _nav(viewer: Viewer) -> dict:
    role = viewer.principal.role
    return {"can_own": role in POLICY_OWNERS, "can_oversee": role in TEAM_OVERSEERS, "can_audit": role in AUDITORS}


# --- policy and training -------------------------------------------------------------------------------

@router.get("")
def home(_viewer: Viewer = Depends(current_user)):
    return _back("/governance/policy")


@router.get("/policy")
def policy_page(request: Request, viewer: Viewer = Depends(current_user),
                session: Session = Depends(get_read_session)):
    version = policy.current_version(session)
    me = viewer.principal
    ack = policy.acknowledged(session, me.user_id, version.id) if version and me.user_id else None
    modules = policy.list_modules(session)
    done = policy.completed_ids(session, me.user_id) if me.user_id else set()
    return render(request, "governance/policy.html", {
        **_nav(viewer), "version": version, "html": policy.render_markdown(version.body) if version else "",
        "acknowledged_at": ack, "modules": [(m, policy.render_markdown(m.body), m.id in done) for m in modules],
        "versions": policy.list_versions(session) if me.role in POLICY_OWNERS else []})


@router.post("/policy/publish")
def publish(request: Request, title: str = Form(""), body: str = Form(""), summary: str = Form(""),
            runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        policy.publish(session, viewer.principal, title, body, summary, client_ip(request))
    return _back("/governance/policy")


@router.post("/policy/{version_id}/acknowledge")
def acknowledge(version_id: int, request: Request, runtime: Runtime = Depends(get_runtime),
                viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        policy.acknowledge(session, viewer.principal, version_id, client_ip(request))
    return _back("/governance/policy")


@router.post("/training")
def save_module(request: Request, key: str = Form(""), title: str = Form(""), body: str = Form(""),
                minutes: int = Form(5), active: str = Form(""), runtime: Runtime = Depends(get_runtime),
                viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        policy.save_module(session, viewer.principal, key, title, body, minutes, bool(active), client_ip(request))
    return _back("/governance/policy")


@router.post("/training/{module_id}/complete")
def complete(module_id: int, request: Request, runtime: Runtime = Depends(get_runtime),
             viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        policy.complete_module(session, viewer.principal, module_id, client_ip(request))
    return _back("/governance/policy")


@router.get("/policy/team")
def team_page(request: Request, viewer: Viewer = Depends(current_user), session: Session = Depends(get_read_session)):
    return render(request, "governance/team.html", {**_nav(viewer), **policy.team_status(session, viewer.principal)})


# --- guard rules ---------------------------------------------------------------------------------------

def _guard_context(session: Session, viewer: Viewer, edit: int | None) -> dict:
    return {**_nav(viewer), "rules": guard_rules.list_rules(session), "severities": SEVERITIES,
            "editing": guard_rules.get_rule(session, edit) if edit else None,
            "channels": enabled_channels(session),
            "kinds": sorted(guard_rules.LENGTH_LIMITS), "tested": None}


@router.get("/guard")
def guard_page(request: Request, edit: int | None = None, viewer: Viewer = Depends(current_user),
               session: Session = Depends(get_read_session)):
    return render(request, "governance/guard.html", _guard_context(session, viewer, edit))


@router.post("/guard/check")
def guard_check(request: Request, text: str = Form(""), channel: str = Form(""), sponsored: str = Form(""),
                viewer: Viewer = Depends(csrf_protect), session: Session = Depends(get_read_session)):
    verdict = review_outgoing(session, viewer.principal, text, channel=channel or None, sponsored=bool(sponsored))
    ctx = _guard_context(session, viewer, None)
    ctx["tested"] = {"text": text, "channel": channel, "sponsored": bool(sponsored), "verdict": verdict,
                     "segments": marked_segments(text, verdict.guard.findings)}
    return render(request, "governance/guard.html", ctx)


@router.post("/guard/rules")
def save_guard_rule(request: Request, rule_id: str = Form(""), key: str = Form(""), name: str = Form(""),
                    kind: str = Form("terms"), severity: str = Form("warn"), terms: str = Form(""),
                    channel_kinds: str = Form(""), enabled: str = Form(""), category: str = Form(""),
                    runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    fields = {"name": name, "severity": severity, "channel_kinds": channel_kinds, "enabled": bool(enabled)}
    if kind == "terms" or terms.strip():
        fields["terms"] = terms
    with unit_of_work(runtime.session_factory) as session:
        if rule_id.isdigit():
            rule = guard_rules.get_rule(session, int(rule_id))
            if category and rule.kind == "terms":
                fields["params"] = {**(rule.params or {}), "category": category}
            guard_rules.update_rule(session, viewer.principal, int(rule_id), fields, client_ip(request))
        else:
            fields.update(key=key, kind=kind)
            if kind == "terms":
                fields["params"] = {"category": category or "banned"}
            guard_rules.create_rule(session, viewer.principal, fields, client_ip(request))
    return _back("/governance/guard")


# --- approval rules ------------------------------------------------------------------------------------

@router.get("/approvals")
def approvals_page(request: Request, edit: int | None = None, viewer: Viewer = Depends(current_user),
                   session: Session = Depends(get_read_session)):
    rules = [approval_rules.describe(session, r) for r in approval_rules.list_rules(session)]
    return render(request, "governance/approvals.html", {
        **_nav(viewer), "rules": rules, "editing": next((r for r in rules if r.id == edit), None),
        "teams": team_keys(session), "intents": INTENTS, "roles": ROLES,
        "stats": approval_rules.waiting_stats(session)})


@router.post("/approvals/rules")
async def save_approval_rule(request: Request, runtime: Runtime = Depends(get_runtime),
                             viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    fields: dict = {name: ",".join(str(v) for v in form.getlist(name)) for name in approval_rules.LIST_FIELDS}
    fields.update({name: form.get(name) or None for name in approval_rules.FLAG_FIELDS})
    fields.update(name=form.get("name", ""), position=form.get("position") or 100,
                  sla_minutes=form.get("sla_minutes") or 60, approver_team=form.get("approver_team") or None,
                  escalation_team=form.get("escalation_team") or None, enabled=bool(form.get("enabled")))
    rule_id = str(form.get("rule_id") or "")

    def save():
        with unit_of_work(runtime.session_factory) as session:
            if rule_id.isdigit():
                approval_rules.update_rule(session, viewer.principal, int(rule_id), fields, client_ip(request))
            else:
                approval_rules.create_rule(session, viewer.principal, fields, client_ip(request))

    await asyncio.to_thread(save)
    return _back("/governance/approvals")


# --- audit ---------------------------------------------------------------------------------------------

def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("/audit")
def audit_page(request: Request, action: str = "", actor: str = "", target: str = "", since: str = "",
               until: str = "", before: int | None = None, viewer: Viewer = Depends(current_user),
               session: Session = Depends(get_read_session)):
    page = audit.search(session, viewer.principal, action=action or None, actor=actor or None,
                        target=target or None, since=_when(since), until=_when(until), before_seq=before, limit=100)
    result = audit.verify(session)
    filters = {"action": action, "actor": actor, "target": target, "since": since, "until": until}
    return render(request, "governance/audit.html", {
        **_nav(viewer), "items": page.items, "next": page.next, "filters": filters,
        "actions": audit.actions(session), "verification": result,
        "query": urlencode({k: v for k, v in filters.items() if v})})


@router.get("/audit/export")
def audit_export(request: Request, format: str = Query("csv", pattern="^(jsonl|csv)$"), action: str = "",
                 actor: str = "", since: str = "", until: str = "", viewer: Viewer = Depends(current_user),
                 runtime: Runtime = Depends(get_runtime)):
    filters = {"since": _when(since), "until": _when(until), "action": action or None, "actor": actor or None}
    return export_response({"write": runtime.session_factory, "read": runtime.read_factory}, viewer.principal,
                           format, filters, client_ip(request))
