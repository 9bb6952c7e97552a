"""The employee social media policy: published versions, acknowledgements, training, reminders.

The coordinator publishes; every employee acknowledges each version and completes the training modules;
a manager sees who in their teams has not; `due_reminders` (called by the scheduler) records who to remind.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.auth.models import User, UserTeam
from onevoice.auth.permissions import POLICY_OWNERS, TEAM_OVERSEERS, require, require_person
from onevoice.auth.principal import Principal
from onevoice.db import utcnow
from onevoice.errors import InvalidInput, NotFound
from onevoice.governance.models import (
    PolicyAcknowledgement,
    PolicyReminder,
    PolicyVersion,
    TrainingCompletion,
    TrainingModule,
)
from onevoice.teams.models import Team

REMIND_EVERY = timedelta(days=7)
# Raw HTML in the Markdown is shown as text, never rendered; markdown-it refuses javascript:/data: links.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def render_markdown(body: str) -> Markup:
    """Safe HTML for a policy or training text (escaped HTML, links with rel=nofollow noopener)."""
    html = _md.render(body or "")
    html = re.sub(r"<a href=", '<a rel="nofollow noopener" href=', html)
    return Markup(html)


# --- versions ------------------------------------------------------------------------------------------

def current_version(session: Session) -> PolicyVersion | None:
    return session.scalars(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1)).first()


def list_versions(session: Session) -> list[PolicyVersion]:
    return list(session.scalars(select(PolicyVersion).order_by(PolicyVersion.version.desc())))


def publish(session: Session, who: Principal, title: str, body: str, summary: str = "",
            ip: str | None = None) -> PolicyVersion:
    """A new version; everyone must acknowledge it again."""
    require(who, POLICY_OWNERS, "publish the social media policy")
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body:
        raise InvalidInput("a policy version needs a title and a text")
    number = (session.scalar(select(func.max(PolicyVersion.version))) or 0) + 1
    version = PolicyVersion(version=number, title=title[:200], body=body, summary=(summary or "").strip(),
                            published_by=who.label)
    session.add(version)
    session.flush()
    audit.record(session, who, "policy.publish", f"policy:v{number}", {"title": version.title,
                                                                       "summary": version.summary}, ip)
    return version


def _record_once(session: Session, who: Principal, model, key: dict, action: str, target: str, ip: str | None):
    """A person's acknowledgement or completion, stored once (its unique key is `key`): pressing the button
    twice returns the row already there and records nothing new in the audit log."""
    existing = session.scalar(select(model).filter_by(**key))
    if existing is not None:
        return existing
    row = model(**key)
    session.add(row)
    session.flush()
    audit.record(session, who, action, target, {}, ip)
    return row


def acknowledge(session: Session, who: Principal, version_id: int, ip: str | None = None) -> PolicyAcknowledgement:
    """Record that this person read and accepts this version (idempotent)."""
    user_id = require_person(who, "acknowledge the policy")
    version = session.get(PolicyVersion, version_id)
    if version is None:
        raise NotFound(f"no policy version {version_id}")
    return _record_once(session, who, PolicyAcknowledgement, {"version_id": version_id, "user_id": user_id},
                        "policy.acknowledge", f"policy:v{version.version}", ip)


def acknowledged(session: Session, user_id: int, version_id: int) -> datetime | None:
    return session.scalar(select(PolicyAcknowledgement.acknowledged_at).where(
        PolicyAcknowledgement.version_id == version_id, PolicyAcknowledgement.user_id == user_id))


# --- training ------------------------------------------------------------------------------------------

def list_modules(session: Session, include_inactive: bool = False) -> list[TrainingModule]:
    q = select(TrainingModule).order_by(TrainingModule.id)
    if not include_inactive:
        q = q.where(TrainingModule.active.is_(True))
    return list(session.scalars(q))


def save_module(session: Session, who: Principal, key: str, title: str, body: str, minutes: int = 5,
                active: bool = True, ip: str | None = None) -> TrainingModule:
    """Create or update a training module by key."""
    require(who, POLICY_OWNERS, "edit training modules")
    key = (key or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", key):
        raise InvalidInput("a module key is 1-64 lowercase letters, digits, - or _")
    if not (title or "").strip() or not (body or "").strip():
        raise InvalidInput("a training module needs a title and a text")
    module = session.scalar(select(TrainingModule).where(TrainingModule.key == key))
    action = "training.update" if module else "training.create"
    if module is None:
        module = TrainingModule(key=key)
        session.add(module)
    module.title, module.body, module.minutes, module.active = title.strip()[:200], body.strip(), int(minutes), active
    module.updated_by, module.updated_at = who.label, utcnow()
    session.flush()
    audit.record(session, who, action, f"training:{key}", {"title": module.title, "active": active}, ip)
    return module


def complete_module(session: Session, who: Principal, module_id: int, ip: str | None = None) -> TrainingCompletion:
    user_id = require_person(who, "complete training")
    module = session.get(TrainingModule, module_id)
    if module is None or not module.active:
        raise NotFound(f"no training module {module_id}")
    return _record_once(session, who, TrainingCompletion, {"module_id": module_id, "user_id": user_id},
                        "training.complete", f"training:{module.key}", ip)


def completed_ids(session: Session, user_id: int) -> set[int]:
    return set(session.scalars(select(TrainingCompletion.module_id).where(TrainingCompletion.user_id == user_id)))


# --- who has not -----------------------------------------------------------------------------------------

def _people(session: Session, team_ids: set[int] | None) -> list[tuple[User, list[str]]]:
    q = select(User).where(User.active.is_(True)).order_by(User.name)
    if team_ids is not None:
        q = q.where(User.id.in_(select(UserTeam.user_id).where(UserTeam.team_id.in_(team_ids or {-1}))))
    users = list(session.scalars(q))
    teams: dict[int, list[str]] = {}
    for user_id, key in session.execute(select(UserTeam.user_id, Team.key).join(Team, Team.id == UserTeam.team_id)
                                        .where(UserTeam.user_id.in_([u.id for u in users] or [-1]))):
        teams.setdefault(user_id, []).append(key)
    return [(u, sorted(teams.get(u.id, []))) for u in users]


def team_status(session: Session, who: Principal) -> dict:
    """For a manager: everyone in their teams (admins and coordinators: everyone), whether they acknowledged
    the current version, when they were last reminded, and which training modules they still have to do."""
    require(who, TEAM_OVERSEERS, "see who has acknowledged the policy")
    version = current_version(session)
    scope = None if who.role in POLICY_OWNERS else set(who.team_ids)
    people = _people(session, scope)
    ids = [u.id for u, _ in people] or [-1]
    acks = dict(session.execute(select(PolicyAcknowledgement.user_id, PolicyAcknowledgement.acknowledged_at).where(
        PolicyAcknowledgement.version_id == (version.id if version else -1),
        PolicyAcknowledgement.user_id.in_(ids))).all())
    reminded = dict(session.execute(select(PolicyReminder.user_id, func.max(PolicyReminder.reminded_at)).where(
        PolicyReminder.version_id == (version.id if version else -1), PolicyReminder.user_id.in_(ids))
        .group_by(PolicyReminder.user_id)).all())
    modules = list_modules(session)
    done: dict[int, set[int]] = {}
    for user_id, module_id in session.execute(select(TrainingCompletion.user_id, TrainingCompletion.module_id)
                                              .where(TrainingCompletion.user_id.in_(ids))):
        done.setdefault(user_id, set()).add(module_id)
    rows = [{"user_id": u.id, "name": u.name, "email": u.email, "role": u.role, "teams": teams,
             "acknowledged_at": acks.get(u.id), "last_reminded_at": reminded.get(u.id),
             "training_missing": [m.title for m in modules if m.id not in done.get(u.id, set())]}
            for u, teams in people]
    return {"version": version.version if version else None, "people": rows,
            "not_acknowledged": sum(1 for r in rows if r["acknowledged_at"] is None),
            "training_incomplete": sum(1 for r in rows if r["training_missing"])}


def due_reminders(session: Session, now: datetime | None = None, every: timedelta = REMIND_EVERY) -> list[dict]:
    """Who should be reminded to acknowledge the current version now (not acknowledged, not reminded within
    `every`); records each reminder and returns them (user id, email, version) for the notifier to send.
    Safe for the scheduler to call as often as it likes."""
    now = now or utcnow()
    version = current_version(session)
    if version is None:
        return []
    acked = select(PolicyAcknowledgement.user_id).where(PolicyAcknowledgement.version_id == version.id)
    recent = select(PolicyReminder.user_id).where(PolicyReminder.version_id == version.id,
                                                  PolicyReminder.reminded_at > now - every)
    users = list(session.scalars(select(User).where(User.active.is_(True), User.id.not_in(acked),
                                                    User.id.not_in(recent)).order_by(User.id)))
    out = []
    for user in users:
        session.add(PolicyReminder(version_id=version.id, user_id=user.id, reminded_at=now))
        out.append({"user_id": user.id, "email": user.email, "name": user.name, "version": version.version})
    session.flush()
    if out:
        audit.record(session, "scheduler", "policy.remind", f"policy:v{version.version}",
                     {"users": [r["email"] for r in out]})
    return out
