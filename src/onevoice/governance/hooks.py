"""Audit what other features change, without them having to call us: a `before_flush` hook on the app's
session factories that appends an audit record for each change to the rows governance cares about.

Covered: channels (added, settings, credentials, owner, enabled), API tokens (created, revoked), users
(created, role, active, password reset), team membership, sign-ins (new sign-in sessions), approvals
(decided; a post's approval is recorded as post.approve / post.reject), incidents (closed or reopened, by hand or
by the detector), contacts linked (one person on two platforms), playbooks (edited, activated), replies
and posts delivered (reply.sent, post.sent) and posts removed from the platform (post.deleted). Frequent
operational columns (channel health, poll cursors, last activity) are not audited. Bulk UPDATE statements
bypass the ORM and are not seen here; their owners call `audit.record` themselves.

Who acted: `bind_actor(session, who, ip)` at the edge, else what the row itself says (the approver, the
signed-in user, the reply's author), else "system".
"""

from __future__ import annotations

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from onevoice.approvals.models import Approval
from onevoice.audit import log as audit
from onevoice.auth.models import ApiToken, User, UserSession, UserTeam
from onevoice.cases.models import Incident
from onevoice.channels.models import Channel
from onevoice.events.models import Event
from onevoice.outbox.models import OutboxJob
from onevoice.routing.models import Playbook
from onevoice.teams.models import Team

CHANNEL_AUDITED = ("name", "kind", "config", "secrets", "owner_team_id", "enabled")
USER_AUDITED = ("role", "active", "email", "name", "password_hash")
_INSTALLED = "onevoice_governance_audit_hook"


def install(factory: sessionmaker) -> None:
    """Attach the hook to a session factory (idempotent)."""
    if getattr(factory, _INSTALLED, False):
        return
    event.listen(factory, "before_flush", _before_flush)
    setattr(factory, _INSTALLED, True)


def _changed(obj, names) -> dict:
    state = inspect(obj)
    out = {}
    for name in names:
        hist = state.attrs[name].history
        if hist.has_changes():
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if before != after:
                out[name] = (before, after)
    return out


def _team_key(session: Session, team_id) -> str | None:
    return session.scalar(select(Team.key).where(Team.id == team_id)) if team_id else None


def _user_email(session: Session, user_id) -> str | None:
    return session.scalar(select(User.email).where(User.id == user_id)) if user_id else None


def _entries(session: Session) -> list[tuple]:
    """(actor or None, action, target, data, ip or None) for every audited change in this flush."""
    out: list[tuple] = []
    for obj in list(session.new):
        if isinstance(obj, Channel):
            out.append((None, "channel.add", f"channel:{obj.key}",
                        {"kind": obj.kind, "name": obj.name, "owner_team": _team_key(session, obj.owner_team_id),
                         "config_keys": sorted((obj.config or {}).keys()), "credentials": bool(obj.secrets)}, None))
        elif isinstance(obj, ApiToken):
            out.append((None, "token.create", f"token:{obj.prefix}",
                        {"name": obj.name, "scopes": obj.scopes, "user": _user_email(session, obj.user_id),
                         "expires_at": obj.expires_at}, None))
        elif isinstance(obj, User):
            out.append((None, "user.create", f"user:{obj.email}", {"role": obj.role, "active": obj.active}, None))
        elif isinstance(obj, UserTeam):
            out.append((None, "user.team_add", f"user:{_user_email(session, obj.user_id)}",
                        {"team": _team_key(session, obj.team_id)}, None))
        elif isinstance(obj, UserSession):
            email = _user_email(session, obj.user_id)
            out.append((email, "auth.sign_in", f"user:{email}", {"user_agent": obj.user_agent}, obj.ip))
        elif isinstance(obj, Event) and obj.kind == "contact.linked":
            data = obj.data or {}
            out.append((obj.actor, "contact.link", f"contact:{data.get('kept')}",
                        # Ids only: the log is append-only, so it must never hold a contact's name, which an
                        # erasure (privacy/erasure.py) has to be able to remove.
                        {"merged": data.get("merged")}, None))
        elif isinstance(obj, Event) and obj.kind == "incident.reopened":
            # Reopened by hand or because the surge resumed: the history event says who and why.
            out.append((obj.actor, "incident.reopen", f"incident:{(obj.data or {}).get('incident_id')}",
                        {"topic": (obj.data or {}).get("topic"), "why": (obj.data or {}).get("why")}, None))
        elif isinstance(obj, Playbook):
            out.append((obj.updated_by, "playbook.create", f"playbook:{obj.name}",
                        {"version": obj.version, "active": obj.active}, None))
    for obj in list(session.dirty):
        if isinstance(obj, Channel):
            changes = _changed(obj, CHANNEL_AUDITED)
            if changes:
                data = {k: v for k, v in changes.items() if k not in ("secrets", "config")}
                if "secrets" in changes:
                    data["credentials"] = "changed"  # never the values, not even encrypted
                if "config" in changes:
                    before, after = changes["config"]
                    data["config"] = {"from": before, "to": after}
                if "owner_team_id" in data:
                    data["owner_team"] = [_team_key(session, t) for t in data.pop("owner_team_id")]
                action = "channel.remove" if changes.get("enabled") == (True, False) else "channel.update"
                out.append((None, action, f"channel:{obj.key}", data, None))
        elif isinstance(obj, ApiToken):
            if _changed(obj, ("revoked_at",)).get("revoked_at", (1, None))[0] is None and obj.revoked_at:
                out.append((None, "token.revoke", f"token:{obj.prefix}", {"name": obj.name}, None))
        elif isinstance(obj, User):
            changes = _changed(obj, USER_AUDITED)
            if "password_hash" in changes:
                changes["password_hash"] = ("…", "changed")
            if changes:
                out.append((None, "user.update", f"user:{obj.email}", {k: list(v) for k, v in changes.items()}, None))
        elif isinstance(obj, Approval):
            status = _changed(obj, ("status",)).get("status")
            if status and status[0] == "pending" and status[1] in ("approved", "rejected"):
                verb = "approve" if status[1] == "approved" else "reject"
                data = {"case_id": obj.case_id, "message_id": obj.message_id, "note": obj.decision_note,
                        # Only admins may decide their own request; the record says when one did.
                        "requested_by": obj.requested_by, "self_decided": obj.requested_by == obj.decided_by}
                if obj.post_id is not None:
                    out.append((obj.decided_by, f"post.{verb}", f"post:{obj.post_id}",
                                {**data, "approval_id": obj.id}, None))
                else:
                    out.append((obj.decided_by, f"approval.{verb}", f"approval:{obj.id}", data, None))
        elif isinstance(obj, Incident):
            entry = _incident_entry(obj)
            if entry:
                out.append(entry)
        elif isinstance(obj, Playbook):
            changes = _changed(obj, ("source", "active", "version", "name"))
            if changes:
                data = {k: list(v) for k, v in changes.items() if k != "source"}
                if "source" in changes:
                    data["source"] = "changed"
                out.append((obj.updated_by, "playbook.update", f"playbook:{obj.name}", data, None))
        elif isinstance(obj, OutboxJob):
            status = _changed(obj, ("status",)).get("status")
            if status and status[1] == "sent":
                action = {"reply": "reply.sent", "post": "post.sent", "delete": "post.deleted"}.get(obj.kind)
                if obj.kind == "delete" and obj.case_id is not None:
                    action = "reply.deleted"
                out.append((obj.created_by, action, f"message:{obj.message_id}",
                            {"case_id": obj.case_id, "channel_id": obj.channel_id, "kind": obj.kind}, None))
    for obj in list(session.deleted):
        if isinstance(obj, UserTeam):
            out.append((None, "user.team_remove", f"user:{_user_email(session, obj.user_id)}",
                        {"team": _team_key(session, obj.team_id)}, None))
        elif isinstance(obj, Channel | ApiToken | User):
            out.append((None, f"{type(obj).__name__.lower()}.delete", f"{obj.__tablename__}:{obj.id}", {}, None))
    return out


def _incident_entry(incident: Incident) -> tuple | None:
    """An incident closed, by hand or when back to normal (`closed_by` says who: a person or "system")."""
    if _changed(incident, ("status",)).get("status") != ("open", "closed"):
        return None
    return (incident.closed_by, "incident.close", f"incident:{incident.id}",
            {"topic": incident.topic, "reason": incident.close_reason}, None)


def _before_flush(session: Session, _flush_context, _instances) -> None:
    entries = _entries(session)
    if not entries:
        return
    actor, ip = session.info.get("audit_actor"), session.info.get("audit_ip")
    for who, action, target, data, row_ip in entries:
        audit.append_unflushed(session, who or actor or "system", action, target, data, row_ip or ip)
