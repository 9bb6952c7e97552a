"""Jinja2 for the pages: autoescaped everywhere (user text is never marked safe), with display helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"
LABELS = {
    "sales_lead": "Sales lead", "job_inquiry": "Job inquiry", "press_inquiry": "Press inquiry",
    "legal_risk": "Legal risk", "safety_risk": "Safety risk", "pending_customer": "Pending customer",
    "pending_internal": "Pending internal", "closed_spam": "Closed as spam",
}
# Amber when the first-response target is this close; red once it has passed.
AMBER_SECONDS = 30 * 60


def label(value) -> str:
    if value is None:
        return ""
    value = str(value)
    return LABELS.get(value, value.replace("_", " ").capitalize())


def _aware(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def span(seconds: float) -> str:
    seconds = abs(int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        h, m = divmod(seconds // 60, 60)
        return f"{h}h {m:02d}m" if h < 10 else f"{h}h"
    return f"{seconds // 86400}d"


def ago(value) -> str:
    value = _aware(value)
    return "" if value is None else span((datetime.now(UTC) - value).total_seconds())


def sla(value) -> dict:
    """{"text", "state"}: state is ok, amber (due soon) or red (breached); the page's script keeps it ticking."""
    value = _aware(value)
    if value is None:
        return {"text": "", "state": "none", "iso": ""}
    left = (value - datetime.now(UTC)).total_seconds()
    state = "red" if left < 0 else "amber" if left < AMBER_SECONDS else "ok"
    return {"text": ("-" if left < 0 else "") + span(left), "state": state, "iso": value.isoformat()}


def iso(value) -> str:
    value = _aware(value)
    return value.isoformat() if value else ""


def clock(value) -> str:
    value = _aware(value)
    return value.strftime("%d %b %H:%M") if value else ""


def initials(name: str | None) -> str:
    """Up to two letters: each word's first letter or digit (not a bracket, an emoji or an invisible control
    character such as a right-to-left override, which would leave the avatar blank)."""
    parts = (name or "?").replace("@", " ").split()
    return "".join(next((ch for ch in p if ch.isalnum()), "") for p in parts[:2]).upper() or "?"


def bdi(value) -> Markup | str:
    """A customer's words shown inline among the page's own (a name, a handle, a subject, a snippet), isolated
    (`<bdi>`): a right-to-left override in them (U+202E, which reverses what follows it to the end of the line)
    or a stray embedding then stays inside them, so "@x on sandbox-x · #complaint" keeps its order and a name
    cannot disguise the words after it. Escaped as any value; nothing for nothing."""
    if value is None or value == "":
        return ""
    return Markup("<bdi>{}</bdi>").format(value)


def make_templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(label=label, ago=ago, sla=sla, iso=iso, clock=clock, initials=initials, bdi=bdi)
    return Jinja2Templates(env=env)


def render(request: Request, name: str, context: dict, status_code: int = 200, headers: dict | None = None):
    templates: Jinja2Templates = request.app.state.templates
    viewer = getattr(request.state, "viewer", None)
    ctx = {"viewer": viewer, "me": viewer.principal if viewer else None,
           "csrf": viewer.csrf_token if viewer else "", "path": request.url.path, **context}
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
