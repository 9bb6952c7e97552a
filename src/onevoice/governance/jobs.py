"""Governance's periodic jobs, each in its own unit of work: approval escalation (every minute) and policy
reminders (hourly). Both are safe to run on several nodes at once and to run twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onevoice import egress
from onevoice.auth.models import User, UserTeam
from onevoice.db import unit_of_work, utcnow
from onevoice.governance.approval_rules import escalate_overdue
from onevoice.governance.policy import due_reminders
from onevoice.inbox.notify import notify_team, notify_user
from onevoice.teams.service import team_id

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT = 5.0


def _tell_approvers(session: Session, move: dict) -> list[str]:
    """A personal (unread, counted in the top bar's badge) notification for each active member of the team
    the request moved to; the team itself only when nobody is in it yet, so whoever joins still sees it."""
    tid = team_id(session, move["to_team"])
    if tid is None:
        return []
    what = "A post" if move.get("post_id") else "A reply"
    text = f"{what} waiting for {move['from_team']} was escalated to you (level {move['level']})."
    people = session.execute(select(User.id, User.email).join(UserTeam, UserTeam.user_id == User.id)
                             .where(UserTeam.team_id == tid, User.active.is_(True)).order_by(User.id)).all()
    for user_id, _email in people:
        notify_user(session, user_id, move["case_id"], "approval", "scheduler", text)
    if not people:
        notify_team(session, tid, move["case_id"], "approval", "scheduler", text)
    return [email for _id, email in people]


def escalate(factory: sessionmaker, publish: Callable[[list[dict]], object] | None = None,
             now: datetime | None = None, webhook_url: str | None = None,
             webhook_secret: str | None = None) -> list[dict]:
    """Move approval requests near their SLA to the next team, tell its members (in the app and, when
    `webhook_url` is set, with a signed POST to it), update open pages."""
    with unit_of_work(factory) as session:
        moved = escalate_overdue(session, now or utcnow())
        for m in moved:
            m["notified"] = _tell_approvers(session, m)
    if moved and publish is not None:
        publish([{"type": "case.updated", "case_id": m["case_id"], "teams": [m["from_team"], m["to_team"]],
                  "change": "approval.escalated", "actor": "scheduler"} for m in moved if m["case_id"]])
    if moved and webhook_url:
        send_webhook(webhook_url, webhook_secret, moved)
    return moved


def send_webhook(url: str, secret: str | None, moved: list[dict]) -> bool:
    """POST the escalations as JSON (after the commit: they happened whatever the receiver says). Signed with
    `X-OneVoice-Signature: sha256=<HMAC of the body>` when a secret is set. A failure is logged, not raised:
    the in-app notifications already went out and the next escalation is not held up by a dead receiver."""
    body = json.dumps({"event": "approval.escalated", "escalations": [
        {k: m.get(k) for k in ("approval_id", "case_id", "from_team", "to_team", "level", "notified")}
        for m in moved]}, default=str).encode()
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-OneVoice-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    # Through the outbound guard (public addresses only, unless the operator exempted the receiver's
    # network); the answer's body is never read. Only the host is logged: a chat tool's webhook URL is a secret.
    host = urlsplit(url).hostname or "?"
    try:
        with egress.client(timeout=WEBHOOK_TIMEOUT) as http, \
                http.stream("POST", url, content=body, headers=headers) as response:
            if response.status_code >= 300:
                log.warning("escalation webhook to %s answered HTTP %s", host, response.status_code)
                return False
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        log.warning("escalation webhook to %s failed: %s", host, exc)
        return False
    return True


def remind(factory: sessionmaker, now: datetime | None = None) -> list[dict]:
    """Remind who has not acknowledged the current policy version (at most weekly per person)."""
    with unit_of_work(factory) as session:
        due = due_reminders(session, now or utcnow())
        for r in due:
            notify_user(session, r["user_id"], None, "policy", "scheduler",
                        f"Please read and acknowledge the social media policy (version {r['version']}).",
                        [{"label": "Read the policy", "href": "/governance/policy"}])
    return due
